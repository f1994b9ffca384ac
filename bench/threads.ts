// The thread pool beside piscina and raw postMessage, 2 workers each.

import { Piscina } from 'piscina'
import { ThreadPoolExecutor, wait } from '../src/index.js'
import { benchProgress } from './progress.js'
import { timed, timedWithDelay } from './measure.js'
import { RawEcho } from './raw-echo.js'
import { microsEach, perSecond, row } from './report.js'
import { CPU_TASKS, FIB, floodRate, mapRate, ROUNDS, roundTrip, SEQ, streamRate, tasks, tasksUrl, WORKERS } from './workloads.js'

const N = 100_000

export async function benchThreads(inlineCpuMs: number): Promise<void> {
  const ours = new ThreadPoolExecutor({ maxWorkers: WORKERS })
  const oursNoStacks = new ThreadPoolExecutor({ maxWorkers: WORKERS, submitStacks: false })
  const piscina = new Piscina({ filename: tasksUrl.href, minThreads: WORKERS, maxThreads: WORKERS })
  const raw = new RawEcho(WORKERS)

  // Warm every pool: threads started, modules loaded, code optimised.
  for (const ex of [ours, oursNoStacks]) wait(Array.from({ length: 20_000 }, (_, i) => ex.submit(tasks.noop, i)))
  await Promise.all(Array.from({ length: 20_000 }, (_, i) => piscina.run({ fn: 'noop', arg: i })))
  await raw.flood(20_000)

  console.error('threads: no-op throughput')
  const piscinaFlood = perSecond(await timed(ROUNDS, () => Promise.all(Array.from({ length: N }, (_, i) => piscina.run({ fn: 'noop', arg: i })))), N)
  const rawFlood = perSecond(await timed(ROUNDS, () => raw.flood(N)), N)
  row('threads: submit, no-op tasks/s', await floodRate(ours, N), piscinaFlood, 'piscina defaults', '/s', '≥ 4× piscina')
  row('threads: submit, no-op, submitStacks: false', await floodRate(oursNoStacks, N), piscinaFlood, 'piscina defaults', '/s', '≥ 4× piscina')
  row('threads: submit vs the postMessage floor', await floodRate(oursNoStacks, N), rawFlood, 'raw postMessage echo', '/s', '≈ 0.5× raw')

  const mapItems = await mapRate(ours, 2 * N)
  row('threads: map, chunksize 256, items/s', mapItems, rawFlood, 'raw postMessage echo', '/s', '≥ 300,000/s')
  row('threads: stream, items/s from one generator', await streamRate(ours, 2 * N), mapItems, 'map, chunksize 256', '/s', '≥ 0.5× map')

  console.error('threads: round trips')
  const us = (ms: number): number => microsEach(ms, SEQ)
  const rawSeq = us(await timed(ROUNDS, () => raw.pingPong(SEQ)))
  row('threads: sequential await round trip', await roundTrip(ours, 'await'),
    us(await timed(ROUNDS, async () => { for (let i = 0; i < SEQ; i++) await piscina.run({ fn: 'noop', arg: i }) })), 'piscina', 'µs', 'lower is better')
  row('threads: sequential await vs raw', await roundTrip(oursNoStacks, 'await'), rawSeq, 'raw ping-pong', 'µs', '–')
  row('threads: blocking result() round trip', await roundTrip(oursNoStacks, 'block'),
    us(await timed(ROUNDS, () => raw.blockingPingPong(SEQ))), 'raw Atomics.wait ping-pong', 'µs', '≤ 1.2×')

  console.error('threads: CPU-bound')
  const pooled = await timedWithDelay(3, () => Promise.all(Array.from({ length: CPU_TASKS }, () => ours.submit(tasks.fib, FIB))))
  const viaPiscina = await timedWithDelay(3, () => Promise.all(Array.from({ length: CPU_TASKS }, () => piscina.run({ fn: 'fib', arg: FIB }))))
  row(`threads: CPU speedup, ${CPU_TASKS} × fib(${FIB})`, inlineCpuMs / pooled.ms, 1, 'one core, inline', '×', '≥ 1.9')
  row('threads: event-loop delay p99 during that batch', pooled.p99, viaPiscina.p99, 'piscina', 'ms', '< 2 ms')

  await benchProgress(oursNoStacks, 'threads')

  await Promise.all([ours.shutdown(), oursNoStacks.shutdown(), piscina.close(), raw.close()])
}
