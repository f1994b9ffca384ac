// The options both local pools (ThreadPoolExecutor, ProcessPoolExecutor)
// take, and their checks.

import { boolean, cloneables, flagOr, integer, MAX_WORKERS, milliseconds, nested, positiveInteger, type Schema } from '../concurrent/validate.js'
import type { AutoscaleOptions } from './autoscale.js'
import { checkTask, type AnyFn, type Task } from './task.js'

/** Options both local pools take: size, initializer, timeouts, queue bound. */
export interface PoolOptions {
  /** Most workers at once, at most MAX_WORKERS (1024; default: os.availableParallelism(), 4× that with autoscale). Workers start as work needs them. */
  maxWorkers?: number
  /**
   * Size the pool at run time, between minWorkers (default 1) and maxWorkers,
   * by hill climbing on completions per second (see autoscale.ts). Default false.
   */
  autoscale?: boolean | AutoscaleOptions
  /** Runs in each worker before its first task; if it throws, the pool breaks. */
  initializer?: Task<AnyFn>
  initargs?: readonly unknown[]
  /** Stop a worker that has been idle this long (default: never; idle workers never keep the process alive). */
  idleTimeoutMs?: number
  /** How long an interrupted task may take to stop before its worker is killed (default 1000). */
  interruptGraceMs?: number
  /**
   * At most this many tasks waiting for a worker (default: no limit). Beyond
   * it submit() throws QueueFullError; runInExecutor() waits for room.
   */
  maxQueued?: number
  /**
   * Record where each submit() was called, so a task's error shows it below
   * the worker's frames (default true). It costs a few µs per task message;
   * turn it off for floods of tiny tasks, or use map() with a chunksize.
   */
  submitStacks?: boolean
}

/** Each pool's own options, named so that one given to the other pool says where it belongs. */
export const notForThreads = misplaced('ProcessPoolExecutor', {
  maxTasksPerChild: "; a ThreadPoolExecutor's is 'maxTasksPerWorker'",
  env: ": threads share this process's environment",
  serialization: ': threads pass values by structured clone',
  onChildExit: ': a thread that dies is replaced',
})
export const notForProcesses = misplaced('ThreadPoolExecutor', {
  maxTasksPerWorker: "; a ProcessPoolExecutor's is 'maxTasksPerChild'",
  threadNamePrefix: '',
  resourceLimits: ": limit a child's heap with execArgv: ['--max-old-space-size=<MB>']",
})

function misplaced(owner: string, hints: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(hints).map(([option, hint]) => [option, `it is an option of ${owner}${hint}`]))
}

/** The checks of the options both pools take. */
export const poolSchema: Schema<PoolOptions> = {
  maxWorkers: integer(1, MAX_WORKERS, 'MAX_WORKERS'),
  autoscale: flagOr(nested<AutoscaleOptions>({ minWorkers: integer(1, MAX_WORKERS, 'MAX_WORKERS') })),
  initializer: checkTask,
  initargs: cloneables,
  idleTimeoutMs: milliseconds,
  interruptGraceMs: milliseconds,
  maxQueued: positiveInteger,
  submitStacks: boolean,
}
