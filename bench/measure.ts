// Timing helpers: medians of rounds, after a warm-up.

import { monitorEventLoopDelay } from 'node:perf_hooks'
import { median } from '../src/cli/timing.js'

export { timed } from '../src/cli/timing.js'

/**
 * Median duration (ms) of each of `fns`, which run in turn, one round of
 * each, `rounds` times: a change in the machine's load meets them all alike,
 * so their ratios hold better than those of medians taken one after another.
 */
export async function timedInTurn(rounds: number, fns: ReadonlyArray<() => unknown>): Promise<number[]> {
  const times = fns.map((): number[] => [])
  for (let i = 0; i < rounds; i++) {
    for (const [k, fn] of fns.entries()) {
      const start = performance.now()
      await fn()
      times[k]!.push(performance.now() - start)
    }
  }
  return times.map(median)
}

/** Median duration (ms) and median event-loop delay p99 (ms) of `rounds` runs of `fn`. */
export async function timedWithDelay(rounds: number, fn: () => Promise<unknown>): Promise<{ ms: number; p99: number }> {
  const times: number[] = []
  const delays: number[] = []
  for (let i = 0; i < rounds; i++) {
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
    histogram.disable()
    delays.push(histogram.percentile(99) / 1e6)
  }
  return { ms: median(times), p99: median(delays) }
}

/** Runs `fn` `n` times, each in its own macrotask, as a server handling requests inline would. */
export function eachInItsOwnTurn(n: number, fn: () => void): Promise<void> {
  return new Promise((resolve) => {
    let left = n
    const next = (): void => {
      fn()
      if (--left === 0) resolve()
      else setImmediate(next)
    }
    setImmediate(next)
  })
}
