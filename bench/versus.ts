// This build against another, in one process, their rounds taken in turn so
// the machine's load meets both alike: the before and after of a change on
// the submit → worker → result path, where runs apart differ by 20–40 %.
//   git worktree add /tmp/before <rev> && (cd /tmp/before && npm ci && npm run build)
//   npm run build && node dist/bench/versus.js /tmp/before [threads|processes]
// Tasks are plain functions (sent by source), which both builds take alike.

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Piscina } from 'piscina'
import * as head from '../src/index.js'
import { timedInTurn } from './measure.js'
import { RawEcho } from './raw-echo.js'
import { RawForkEcho } from './raw-fork-echo.js'
import * as inline from './tasks.js'
import { SEQ, tasksUrl, WORKERS } from './workloads.js'

type Lib = typeof head
type Pool = head.ThreadPoolExecutor | head.ProcessPoolExecutor

const [dir, section = 'threads'] = process.argv.slice(2)
if (dir === undefined || !['threads', 'processes'].includes(section)) {
  console.error('usage: node dist/bench/versus.js <checkout of the other build> [threads|processes]')
  process.exit(2)
}
const before = (await import(pathToFileURL(resolve(dir, 'dist/src/index.js')).href)) as Lib
const ROUNDS = 9
const N = 50_000

const flood = (lib: Lib, ex: Pool) => async (): Promise<void> => {
  const futures = Array.from({ length: N }, (_, i) => ex.submit(inline.noop, i))
  await futures[N - 1]
  lib.wait(futures)
}
const awaited = (ex: Pool) => async (): Promise<void> => {
  for (let i = 0; i < SEQ; i++) await ex.submit(inline.noop, i)
}
const blocked = (ex: Pool) => (): void => {
  for (let i = 0; i < SEQ; i++) ex.submit(inline.noop, i).result()
}

/** Median ms of each of `fns` (a warm-up round first), in turn. */
async function measure(fns: Array<() => unknown>): Promise<number[]> {
  for (const fn of fns) await fn()
  return timedInTurn(ROUNDS, fns)
}

const µs = (ms: number): string => `${((ms * 1000) / SEQ).toFixed(1)} µs`
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`
/** One line: the reference, then each build's figure and its ratio to it. */
function line(name: string, ref: string, [b, h]: number[], show: (ms: number) => string, to: (ms: number) => string): void {
  console.log(`${name}: ${ref} | before ${show(b!)} (${to(b!)}) | after ${show(h!)} (${to(h!)})`)
}

if (section === 'threads') {
  const piscina = new Piscina({ filename: tasksUrl.href, minThreads: WORKERS, maxThreads: WORKERS })
  const raw = new RawEcho(WORKERS)
  const pools = (lib: Lib, submitStacks: boolean): Pool => new lib.ThreadPoolExecutor({ maxWorkers: WORKERS, submitStacks })
  const [b, h, bNo, hNo] = [pools(before, true), pools(head, true), pools(before, false), pools(head, false)]
  const [pf, ...floods] = await measure([
    () => Promise.all(Array.from({ length: N }, (_, i) => piscina.run({ fn: 'noop', arg: i }))),
    flood(before, b), flood(head, h), flood(before, bNo), flood(head, hNo),
  ])
  const perPiscina = (ms: number): string => `${ratio(pf!, ms)} piscina`
  const perSecond = (ms: number): string => `${Math.round((N / ms) * 1000).toLocaleString('en')} /s`
  line('thread submit flood', `piscina ${perSecond(pf!)}`, floods.slice(0, 2), perSecond, perPiscina)
  line('thread submit flood, submitStacks: false', `piscina ${perSecond(pf!)}`, floods.slice(2), perSecond, perPiscina)
  const [rawBlock, pisAwait, ...trips] = await measure([
    () => raw.blockingPingPong(SEQ),
    async () => { for (let i = 0; i < SEQ; i++) await piscina.run({ fn: 'noop', arg: i }) },
    awaited(b), awaited(h), blocked(bNo), blocked(hNo), blocked(b), blocked(h),
  ])
  line('thread await round trip', `piscina ${µs(pisAwait!)}`, trips.slice(0, 2), µs, (ms) => `${ratio(ms, pisAwait!)} piscina`)
  line('thread blocking result(), submitStacks: false', `raw Atomics.wait ${µs(rawBlock!)}`, trips.slice(2, 4), µs, (ms) => `${ratio(ms, rawBlock!)} raw`)
  line('thread blocking result()', `piscina awaited ${µs(pisAwait!)}`, trips.slice(4), µs, (ms) => `${ratio(ms, pisAwait!)} piscina`)
  await Promise.all([b, h, bNo, hNo].map((ex) => ex.shutdown()))
  await Promise.all([piscina.close(), raw.close()])
} else {
  const raw = new RawForkEcho(1, 'advanced')
  const pools = (lib: Lib): Pool => new lib.ProcessPoolExecutor({ maxWorkers: WORKERS, submitStacks: false })
  const [b, h] = [pools(before), pools(head)]
  const [rawTrip, ...trips] = await measure([() => raw.pingPong(SEQ), awaited(b), awaited(h), blocked(b), blocked(h)])
  const perRaw = (ms: number): string => `${ratio(ms, rawTrip!)} raw`
  line('process await round trip', `raw fork IPC ${µs(rawTrip!)}`, trips.slice(0, 2), µs, perRaw)
  line('process blocking result()', `raw fork IPC ${µs(rawTrip!)}`, trips.slice(2), µs, perRaw)
  await Promise.all([b.shutdown(), h.shutdown(), raw.close()])
}
