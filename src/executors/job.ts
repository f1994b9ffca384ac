// One submitted call, from submit() until its future settles, and the
// shared-memory slots that let a worker claim it.

import type { TransferListItem } from 'node:worker_threads'
import type { Claim, Future } from '../concurrent/future.js'
import { CANCELLED, INTERRUPTED, PENDING, RUNNING } from '../wire/protocol.js'
import type { TaskSpec } from './task.js'

/** A fixed set of Int32 task slots in one SharedArrayBuffer, shared with every worker of a pool. */
export class TaskSlots {
  readonly buffer: SharedArrayBuffer
  readonly states: Int32Array
  readonly #free: number[]

  constructor(capacity: number) {
    this.buffer = new SharedArrayBuffer(capacity * 4)
    this.states = new Int32Array(this.buffer)
    this.#free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i)
  }

  get available(): number {
    return this.#free.length
  }

  take(): number {
    const slot = this.#free.pop()!
    Atomics.store(this.states, slot, PENDING)
    return slot
  }

  release(slot: number): void {
    this.#free.push(slot)
  }
}

/**
 * Tasks that must run on one worker, in submission order: the calls on a
 * remote object. The first task binds it to the worker that runs it.
 */
export class Pin {
  /** The worker it is bound to (a PoolMember, typed loosely to keep this file free of it). */
  member: { pinned: Set<Pin> } | undefined
  /** Set once the worker is gone: every later task fails with it. */
  lost: Error | undefined

  constructor(readonly name: string) {}
}

export class Job implements Claim {
  slot = -1
  /** Why the pool asked the running task to stop; the future fails with it if the worker has to go. */
  interruptReason: unknown
  /** A timed action (timeout, grace period) and when it is due; the pool runs it from a timer or a blocked wait. */
  wakeAt = Infinity
  onWake: (() => void) | undefined
  timer: NodeJS.Timeout | undefined

  constructor(
    readonly id: number,
    readonly future: Future<unknown>,
    readonly spec: TaskSpec,
    readonly args: unknown[],
    readonly flags: number,
    readonly transfer: readonly TransferListItem[],
    readonly submitSite: { stack?: string },
    readonly timeoutMs: number | undefined,
    /** It has a timeout or an AbortSignal, so the pool may have to stop its worker. */
    readonly interruptible: boolean,
    readonly slots: TaskSlots,
    /** Called once when the job stops counting as work: it settled, or was cancelled before it started. */
    readonly onRetire: (job: Job) => void,
    readonly pin?: Pin,
  ) {
    future.bindClaim(this)
  }

  running(): boolean {
    if (this.slot < 0) return false
    const state = Atomics.load(this.slots.states, this.slot)
    return state === RUNNING || state === INTERRUPTED
  }

  tryCancel(): boolean {
    if (this.slot >= 0 && Atomics.compareExchange(this.slots.states, this.slot, PENDING, CANCELLED) !== PENDING) return false
    this.onRetire(this)
    return true
  }

  /** Takes back a task no worker has started, so no worker can start it; false if one did. */
  steal(): boolean {
    return Atomics.compareExchange(this.slots.states, this.slot, PENDING, CANCELLED) === PENDING
  }

  /** Requests a stop of the running task; false if it is not running. */
  markInterrupted(reason: unknown): boolean {
    if (this.slot < 0 || Atomics.compareExchange(this.slots.states, this.slot, RUNNING, INTERRUPTED) !== RUNNING) return false
    this.interruptReason = reason
    return true
  }

  settle(ok: boolean, value: unknown): void {
    if (this.future.done()) return
    this.onRetire(this)
    if (ok) this.future.setResult(value)
    else this.future.setException(value)
  }
}
