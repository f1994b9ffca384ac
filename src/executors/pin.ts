// Pinning: a series of calls that must run on one worker of a pool, in
// order (the calls on a remote object, src/proxy/remote.ts). The pools
// implement it; remote() sees only this.

import type { Future } from '../concurrent/future.js'
import type { SubmitOptions } from './executor.js'
import type { AnyFn, Task } from './task.js'

/** A series of calls bound to one worker: the first call binds it to the worker that runs it. */
export class Pin {
  /** The worker it is bound to (a PoolMember, typed loosely to keep this file free of it). */
  member: { pinned: Set<Pin> } | undefined
  /** Set once the worker is gone: every later call fails with it. */
  lost: Error | undefined

  constructor(readonly name: string) {}
}

/** An executor that can pin: ThreadPoolExecutor and ProcessPoolExecutor. Internal: its members are left out of the published types. */
export interface Pinning {
  /** @internal Runs `fn(...args)` on the worker `pin` is bound to (the next free one, if it is not yet), after its earlier calls, as submitWith() would. */
  submitPinned(pin: Pin, fn: Task<AnyFn>, args: unknown[], options: SubmitOptions): Future<unknown>
  /** @internal The series is over: its worker may be recycled again. */
  unpin(pin: Pin): void
}

// The library's own pools, registered as they are built: remote() accepts only
// these, not any object that happens to have methods of the same names.
const pinning = new WeakSet<object>()

/** Called by a pool's constructor: it implements Pinning. */
export function registerPinning(executor: Pinning & object): void {
  pinning.add(executor)
}

export function canPin<E>(executor: E): executor is E & Pinning {
  return typeof executor === 'object' && executor !== null && pinning.has(executor)
}
