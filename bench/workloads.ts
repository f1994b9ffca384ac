// What every section of the benchmark runs, and how often.

import { fromModule, wait, type Executor } from '../src/index.js'
import { timed } from './measure.js'
import { microsEach, perSecond } from './report.js'
import { fib } from './tasks.js'

export const tasksUrl = new URL('./tasks.js', import.meta.url)
export const tasks = fromModule<typeof import('./tasks.js')>(tasksUrl)
export const WORKERS = 2
export const ROUNDS = 5
/** Sequential round trips per round. */
export const SEQ = 2_000
export const FIB = 27
export const CPU_TASKS = 64

/** The CPU batch on this thread: the one-core reference for every speedup. */
export function inlineCpu(): void {
  for (let i = 0; i < CPU_TASKS; i++) fib(FIB)
}

/** No-op tasks per second, all submitted at once. */
export async function floodRate(ex: Executor, n: number): Promise<number> {
  return perSecond(await timed(ROUNDS, async () => {
    const futures = Array.from({ length: n }, (_, i) => ex.submit(tasks.noop, i))
    await futures[n - 1]
    wait(futures)
  }), n)
}

/** No-op items per second through map with chunksize 256. */
export async function mapRate(ex: Executor, n: number): Promise<number> {
  const items = Array.from({ length: n }, (_, i) => i)
  return perSecond(await timed(ROUNDS, () => [...ex.map(tasks.noop, items, { chunksize: 256 })]), n)
}

/** Items/s streamed from one generator task (stream()), consumed by for await. */
export async function streamRate(ex: Executor, n: number): Promise<number> {
  return perSecond(await timed(ROUNDS, async () => {
    let count = 0
    for await (const _ of ex.stream(tasks.range, n)) count++
    if (count !== n) throw new Error(`stream() gave ${count} of ${n} items`)
  }), n)
}

/** One round of SEQ no-op tasks, one after another, awaited or blocked on. */
export function roundTripRound(ex: Executor, how: 'await' | 'block'): () => unknown {
  return how === 'await'
    ? async () => { for (let i = 0; i < SEQ; i++) await ex.submit(tasks.noop, i) }
    : () => { for (let i = 0; i < SEQ; i++) ex.submit(tasks.noop, i).result() }
}

/** µs per no-op task, one after another, awaited or blocked on. */
export async function roundTrip(ex: Executor, how: 'await' | 'block'): Promise<number> {
  return microsEach(await timed(ROUNDS, roundTripRound(ex, how)), SEQ)
}
