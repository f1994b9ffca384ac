// What every section of the benchmark runs, and how often.

import { fromModule } from '../src/index.js'
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
