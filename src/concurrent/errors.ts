// The error classes of concurrent.futures. Python's `concurrent.futures.Error`
// is `FuturesError` here, so it does not shadow the global `Error`.

/** The base class of every error this library throws (CPython's `concurrent.futures` Error). */
export class FuturesError extends Error {}

/** The future was cancelled before it ran. */
export class CancelledError extends FuturesError {}

/** An operation not allowed in the future's current state, such as a second `setResult`. */
export class InvalidStateError extends FuturesError {}

/** A blocking wait ran out of time. */
export class TimeoutError extends FuturesError {}

/** A blocking wait with no timeout that nothing could ever end. */
export class DeadlockError extends FuturesError {}

/** `submit` after `shutdown()`. */
export class ExecutorShutdownError extends FuturesError {}

/** `submit` while the pool already holds `maxQueued` tasks waiting for a worker. */
export class QueueFullError extends FuturesError {}

/** The executor can no longer run work; every pending future failed with this. */
export class BrokenExecutor extends FuturesError {}

/** A thread pool that can no longer run tasks (a worker could not start); its pending futures fail with it. */
export class BrokenThreadPool extends BrokenExecutor {}

/** A process pool whose child died (in the default `onChildExit: 'break'` mode): every pending and running future fails with it. */
export class BrokenProcessPool extends BrokenExecutor {}

/** How a worker ended: an exit code, a signal (processes), or neither when the pool stopped it. */
export interface WorkerExit {
  exitCode?: number | undefined
  signal?: string | undefined
  /** It ended without an exit the pool could read (out of memory, or killed natively), seen while this thread was blocked. */
  vanished?: boolean
}

/** The worker thread, child process or queue worker that held a task ended before it answered; `exitCode`/`signal` say how. */
export class WorkerLost extends FuturesError {
  readonly exitCode: number | undefined
  readonly signal: string | undefined
  constructor(message: string, exit: WorkerExit, options?: ErrorOptions) {
    super(message, options)
    this.exitCode = exit.exitCode
    this.signal = exit.signal
  }
}

/** "exited with code 3", "was killed by SIGKILL", "was stopped by the pool". */
export function describeExit({ exitCode, signal, vanished }: WorkerExit): string {
  if (signal) return `was killed by ${signal}`
  if (vanished) return 'ended abruptly (out of memory, or killed)'
  return exitCode === undefined ? 'was stopped by the pool' : `exited with code ${exitCode}`
}

/** A QueueExecutor cannot reach Redis: the task was not queued. */
export class QueueUnavailable extends FuturesError {}

/** What a QueueExecutor knew of a job whose outcome Redis no longer holds. */
export interface LostJob {
  /** The BullMQ job id. */
  jobId: string
  /** Whether a worker was seen to start it: if so, it may have run, even to the end. */
  started: boolean
}

/**
 * A QueueExecutor's job is gone from Redis with no outcome left to read (its
 * record removed and its event trimmed away, Redis restarted without its
 * data, or the job removed by another client). Never a cancel(): that is a
 * CancelledError.
 */
export class JobLost extends FuturesError {
  readonly jobId: string
  readonly started: boolean
  constructor(message: string, { jobId, started }: LostJob, options?: ErrorOptions) {
    super(message, options)
    this.jobId = jobId
    this.started = started
  }
}

/**
 * The key under which the library's error classes hold their name a second
 * time, out of reach of a task's own `name`: what tells the error codec an
 * error was one of ours. From the global registry, so that a second copy of
 * the library (a worker loading another build) brands its classes alike,
 * where instanceof would not see them.
 */
export const ERROR_BRAND = Symbol.for('concurrent-futures.error')

/**
 * The library's error classes by name. Each takes its `name` from here, on its
 * prototype as the built-in errors have it, so a bundler that renames classes
 * renames none of them; the error codec decodes by this record the errors
 * that carry its brand.
 */
export const futuresErrors = {
  FuturesError, CancelledError, InvalidStateError, TimeoutError, DeadlockError, ExecutorShutdownError, QueueFullError,
  BrokenExecutor, BrokenThreadPool, BrokenProcessPool, WorkerLost, QueueUnavailable, JobLost,
}
nameErrors(futuresErrors)

/** Gives each class its key as `name`, as the built-in errors have theirs (on the prototype, not enumerable), and as its brand. */
export function nameErrors(classes: Record<string, abstract new (...args: never) => Error>): void {
  for (const [name, ErrorClass] of Object.entries(classes)) {
    Object.defineProperty(ErrorClass.prototype, 'name', { value: name, writable: true, configurable: true })
    Object.defineProperty(ErrorClass.prototype, ERROR_BRAND, { value: name })
  }
}
