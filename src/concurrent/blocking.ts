// How a thread blocks on futures without deadlocking.
//
// Results travel from workers to this thread as messages on MessagePorts,
// which the event loop normally delivers. A blocking wait stops the event
// loop, so it cannot rely on that: instead every worker owned by this thread
// bumps one shared word (the doorbell) after posting, and the waiter sleeps
// on it with Atomics.wait, then pulls the messages itself with
// receiveMessageOnPort. Each executor registers as a CompletionSource so the
// waiter can drain it, and dispatch more work while it is at it.

import { DeadlockError } from './errors.js'

export interface CompletionSource {
  /** Process every message already delivered, synchronously. */
  drain(): void
  /** True while something this source owns could still complete a future. */
  busy(): boolean
  /** When (performance.now() time) the source has a timed action due, such as a task timeout; drain() runs it. */
  wakeAt(): number
  /** Why work it holds waits for this thread, if some does (a stream waiting for its consumer): said in a DeadlockError. */
  waitsForThisThread?(): string | undefined
}

const doorbell = new Int32Array(new SharedArrayBuffer(4))
const sources = new Set<CompletionSource>()

/** The shared word workers ring; handed to each worker at start. */
export const doorbellBuffer = doorbell.buffer as SharedArrayBuffer

export function ring(bell: Int32Array): void {
  Atomics.add(bell, 0, 1)
  Atomics.notify(bell, 0)
}

export function addSource(source: CompletionSource): void {
  sources.add(source)
}

export function removeSource(source: CompletionSource): void {
  sources.delete(source)
}

export function drainAll(): void {
  for (const source of sources) source.drain()
}

/**
 * Blocks this thread until `ready()` holds or `deadline` (a performance.now()
 * time) passes; returns whether `ready()` holds. Without a deadline, throws
 * DeadlockError when no source could ever make `ready()` true.
 */
export function blockUntil(ready: () => boolean, deadline: number, describe: () => string): boolean {
  for (;;) {
    const seen = Atomics.load(doorbell, 0)
    drainAll()
    if (ready()) return true
    const now = performance.now()
    if (deadline - now <= 0) return false
    let wake = deadline
    for (const source of sources) wake = Math.min(wake, source.wakeAt())
    const remaining = Math.max(0, wake - now)
    if (deadline === Infinity && ![...sources].some((s) => s.busy())) {
      const waiting = [...sources].map((s) => s.waitsForThisThread?.()).find((why) => why !== undefined)
      throw new DeadlockError(
        `${describe()} would block forever: no executor of this thread has work that could complete it. ` +
          (waiting ?? 'A future completed by code on this thread (a timer, a promise) cannot complete while the thread blocks; await it instead, or pass a timeout.'),
      )
    }
    Atomics.wait(doorbell, 0, seen, remaining === Infinity ? undefined : remaining)
  }
}
