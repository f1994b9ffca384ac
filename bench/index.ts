// npm run bench: our ThreadPoolExecutor beside piscina and raw postMessage,
// all measured in this one run, 2 workers each, medians of rounds after a warm-up.

import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Piscina } from 'piscina'
import { fromModule, ThreadPoolExecutor, wait } from '../src/index.js'
import { median, timed } from './measure.js'
import { RawEcho } from './raw-echo.js'
import { fib } from './tasks.js'

const tasksUrl = new URL('./tasks.js', import.meta.url)
const tasks = fromModule<typeof import('./tasks.js')>(tasksUrl)
const WORKERS = 2
const ROUNDS = 5
const N = 100_000
const FIB = 27
const CPU_TASKS = 64

const rows: string[][] = []
/** The ratio is always ours ÷ reference. */
function row(name: string, ours: number, reference: number, refName: string, unit: string, target: string): void {
  const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(2))
  rows.push([name, `${fmt(ours)} ${unit}`, `${fmt(reference)} ${unit} (${refName})`, `${(ours / reference).toFixed(2)}×`, target])
  console.error(`  ${name}: ${fmt(ours)} vs ${fmt(reference)} ${unit}`)
}

const ours = new ThreadPoolExecutor({ maxWorkers: WORKERS })
const oursNoStacks = new ThreadPoolExecutor({ maxWorkers: WORKERS, submitStacks: false })
const piscina = new Piscina({ filename: tasksUrl.href, minThreads: WORKERS, maxThreads: WORKERS })
const raw = new RawEcho(WORKERS)

// Warm every pool: threads started, modules loaded, code optimised.
for (const ex of [ours, oursNoStacks]) wait(Array.from({ length: 20_000 }, (_, i) => ex.submit(tasks.noop, i)))
await Promise.all(Array.from({ length: 20_000 }, (_, i) => piscina.run({ fn: 'noop', arg: i })))
await raw.flood(20_000)

console.error('no-op throughput')
const flood = async (ex: ThreadPoolExecutor): Promise<void> => {
  const futures = Array.from({ length: N }, (_, i) => ex.submit(tasks.noop, i))
  await futures[N - 1]
  wait(futures)
}
const perSecond = (ms: number, n = N): number => (n / ms) * 1000
const piscinaFlood = perSecond(await timed(ROUNDS, () => Promise.all(Array.from({ length: N }, (_, i) => piscina.run({ fn: 'noop', arg: i })))))
const rawFlood = perSecond(await timed(ROUNDS, () => raw.flood(N)))
row('submit, no-op tasks/s', perSecond(await timed(ROUNDS, () => flood(ours))), piscinaFlood, 'piscina defaults', '/s', '≥ 4× piscina')
row('submit, no-op, submitStacks: false', perSecond(await timed(ROUNDS, () => flood(oursNoStacks))), piscinaFlood, 'piscina defaults', '/s', '≥ 4× piscina')
row('submit vs the postMessage floor', perSecond(await timed(ROUNDS, () => flood(oursNoStacks))), rawFlood, 'raw postMessage echo', '/s', '≈ 0.5× raw')

console.error('map')
const items = Array.from({ length: 2 * N }, (_, i) => i)
const mapRate = perSecond(await timed(ROUNDS, () => [...ours.map(tasks.noop, items, { chunksize: 256 })]), items.length)
row('map, chunksize 256, items/s', mapRate, rawFlood, 'raw postMessage echo', '/s', '≥ 300,000/s')

console.error('round trips')
const SEQ = 2_000
const us = (ms: number): number => (ms / SEQ) * 1000
const rawSeq = us(await timed(ROUNDS, () => raw.pingPong(SEQ)))
row('sequential await round trip', us(await timed(ROUNDS, async () => { for (let i = 0; i < SEQ; i++) await ours.submit(tasks.noop, i) })),
  us(await timed(ROUNDS, async () => { for (let i = 0; i < SEQ; i++) await piscina.run({ fn: 'noop', arg: i }) })), 'piscina', 'µs', 'lower is better')
row('sequential await vs raw', us(await timed(ROUNDS, async () => { for (let i = 0; i < SEQ; i++) await oursNoStacks.submit(tasks.noop, i) })), rawSeq, 'raw ping-pong', 'µs', '–')
row('blocking result() round trip', us(await timed(ROUNDS, () => { for (let i = 0; i < SEQ; i++) oursNoStacks.submit(tasks.noop, i).result() })),
  us(await timed(ROUNDS, () => raw.blockingPingPong(SEQ))), 'raw Atomics.wait ping-pong', 'µs', '≤ 1.2×')

console.error('CPU-bound')
const inline = await timed(3, () => { for (let i = 0; i < CPU_TASKS; i++) fib(FIB) })
const delays: number[] = []
const piscinaDelays: number[] = []
const cpuTimes: number[] = []
for (let r = 0; r < 3; r++) {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const start = performance.now()
  await Promise.all(Array.from({ length: CPU_TASKS }, () => ours.submit(tasks.fib, FIB)))
  cpuTimes.push(performance.now() - start)
  histogram.disable()
  delays.push(histogram.percentile(99) / 1e6)
  const other = monitorEventLoopDelay({ resolution: 1 })
  other.enable()
  await Promise.all(Array.from({ length: CPU_TASKS }, () => piscina.run({ fn: 'fib', arg: FIB })))
  other.disable()
  piscinaDelays.push(other.percentile(99) / 1e6)
}
row(`CPU speedup, ${CPU_TASKS} × fib(${FIB})`, inline / median(cpuTimes), 1, 'one core, inline', '×', '≥ 1.9')
row('event-loop delay p99 during that batch', median(delays), median(piscinaDelays), 'piscina', 'ms', '< 2 ms')

await Promise.all([ours.shutdown(), oursNoStacks.shutdown(), piscina.close(), raw.close()])

console.log('| benchmark | concurrent-futures | reference (same run) | ratio | target |')
console.log('|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
