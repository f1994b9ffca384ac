// What a task running inside a pool worker can ask of its worker:
//   import { taskSignal, checkInterrupt, reportProgress } from 'concurrent-futures/worker'

import { currentSignal, reportProgress as report, throwIfInterrupted, workerName as name } from './wire/task-context.js'

export type { ProgressReporter } from './executors/task.js'

/** The name of this pool worker (`<threadNamePrefix>_<index>`), or undefined outside a pool. */
export function workerName(): string | undefined {
  return name
}

/**
 * An AbortSignal that aborts when the pool interrupts the running task (its
 * `timeoutMs` passed, or the submitter's signal aborted). Async tasks can pass
 * it on; synchronous loops should call checkInterrupt() instead, since a
 * signal cannot fire while the loop holds the thread.
 */
export function taskSignal(): AbortSignal {
  return currentSignal()
}

/** Throws the interruption reason if the pool asked the running task to stop; cheap enough for a hot loop. */
export function checkInterrupt(): void {
  throwIfInterrupted()
}

/**
 * Sends `value` to the task's Future (its onProgress() callbacks and
 * progress() iterators). Cheap enough for a hot loop: reports coalesce, the
 * newest value going at most once a millisecond, and the last one before the
 * result. The value is copied now, as the pool will receive it (structured
 * clone; JSON on a 'json' process pool or a queue): one that cannot travel
 * throws a TypeError here. For a typed report, declare the task
 * `function task(this: ProgressReporter<number>, ...)` and call
 * `this.reportProgress(n)`: the Future is then a Future<R, number>.
 * Report only while the task runs: the worker knows the running task, not
 * the caller, so a timer the task leaves behind reports to whichever task
 * runs when it fires, and throws between tasks.
 */
export function reportProgress(value: unknown): void {
  report(value)
}
