// One submitted call, from submit() until its future settles, and the
// shared-memory slots that let a worker claim it.

import type { TransferListItem } from 'node:worker_threads'
import type { Claim, Future } from '../concurrent/future.js'
import { CANCELLED, INTERRUPTED, PENDING, RUNNING } from '../wire/protocol.js'
import type { TaskSpec } from './task.js'

/**
 * The most jobs one worker holds at once: its window (pool-member.ts) and
 * its pinned calls alike. Every other capacity derives from it.
 */
export const MAX_JOBS_PER_WORKER = 512

/**
 * A fixed set of Int32 task slots in one SharedArrayBuffer, shared with every
 * worker of a pool: enough for each worker's jobs, and as many again for
 * workers that are going but may still touch theirs (their slots are freed
 * only once they are gone). The pool takes one only when one is available.
 */
export class TaskSlots {
  readonly buffer: SharedArrayBuffer
  readonly states: Int32Array
  readonly #free: number[]

  constructor(maxWorkers: number) {
    const capacity = maxWorkers * MAX_JOBS_PER_WORKER * 2
    this.buffer = new SharedArrayBuffer(capacity * 4)
    this.states = new Int32Array(this.buffer)
    this.#free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i)
  }

  get available(): number {
    return this.#free.length
  }

  take(): number {
    const slot = this.#free.pop()
    if (slot === undefined) throw new Error('no free task slot: the pool takes one only when one is available')
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
    /** Called once when the job stops counting as work: its future settled or was cancelled, by anyone. */
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
    return this.slot < 0 || Atomics.compareExchange(this.slots.states, this.slot, PENDING, CANCELLED) === PENDING
  }

  /** However its future was settled (by its task, its user or a cancel), the job stops counting as work, once. */
  settled(): void {
    this.onRetire(this)
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

  /** Settles the future, unless its user already did: then this outcome is dropped, as CPython drops a late result. */
  settle(ok: boolean, value: unknown): void {
    if (this.future.done()) return
    if (ok) this.future.setResult(value)
    else this.future.setException(value)
  }
}
