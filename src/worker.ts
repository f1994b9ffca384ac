// What a task running inside a pool worker can ask of its worker:
//   import { taskSignal, checkInterrupt } from 'concurrent-futures/worker'

import { currentSignal, throwIfInterrupted, workerName as name } from './wire/task-context.js'

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
