// Medians of timed rounds: the one way the bench command (and npm run bench) times work.

import { median } from './stats.js'

export { median }

/** Runs `fn` `rounds` times and returns the median duration in ms. */
export async function timed(rounds: number, fn: () => unknown): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  return median(times)
}
