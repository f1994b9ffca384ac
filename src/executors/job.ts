// One submitted call, from submit() until its future settles: what the pool
// sends, and the task slot (src/wire/slots.ts) through which the pool and a
// worker decide, without a message, whether it runs.

import type { TransferListItem } from 'node:worker_threads'
import { Future, type Claim } from '../concurrent/future.js'
import { CHUNK, FLUSH_FIRST, REPORT_START, STREAM } from '../wire/batches.js'
import { cancel, interrupt, started, type TaskSlots } from '../wire/slots.js'
import type { TaskSpec } from '../wire/task-spec.js'
import type { Pin } from './pin.js'
import type { StreamReader } from './task-stream.js'

/** What a pool shares with all its jobs. */
export interface JobOwner {
  readonly slots: TaskSlots
  /** Called once when a job stops counting as work: its future settled or was cancelled, by anyone. */
  retire(job: Job): void
}

export interface JobInit {
  id: number
  spec: TaskSpec
  /** The call's arguments, or (chunk) a list of argument lists. */
  args: unknown[]
  chunk: boolean
  transfer: readonly TransferListItem[]
  submitSite: { stack?: string }
  timeoutMs: number | undefined
  /** It has an AbortSignal: it may be interrupted. */
  signalled: boolean
  pin: Pin | undefined
  /** Lower starts first (SubmitOptions.priority). */
  priority: number
  /** A streamed task (stream()): where its items go. */
  stream: StreamReader | undefined
}

export class Job implements Claim {
  readonly future = new Future<unknown>()
  readonly id: number
  readonly spec: TaskSpec
  readonly args: unknown[]
  /** Task flags (batches.ts). */
  readonly flags: number
  readonly transfer: readonly TransferListItem[]
  readonly submitSite: { stack?: string }
  readonly timeoutMs: number | undefined
  /** It has a timeout or an AbortSignal, or is a stream its consumer may stop, so the pool may have to stop its worker. */
  readonly interruptible: boolean
  readonly pin: Pin | undefined
  readonly priority: number
  readonly stream: StreamReader | undefined
  slot = -1
  /** It waits in the pool's queue, holding room there (set by JobQueue alone). */
  waiting = false
  /** Why the pool asked the running task to stop; the future fails with it if the worker has to go. */
  interruptReason: unknown
  readonly #owner: JobOwner

  constructor(owner: JobOwner, init: JobInit) {
    this.#owner = owner
    this.id = init.id
    this.spec = init.spec
    this.args = init.args
    this.transfer = init.transfer
    this.submitSite = init.submitSite
    this.timeoutMs = init.timeoutMs
    this.interruptible = init.timeoutMs !== undefined || init.signalled || init.stream !== undefined
    this.flags = (init.chunk ? CHUNK : 0) | (init.timeoutMs === undefined ? 0 : REPORT_START) | (this.interruptible ? FLUSH_FIRST : 0) | (init.stream ? STREAM : 0)
    this.pin = init.pin
    this.priority = init.priority
    this.stream = init.stream
    this.future.bindClaim(this)
  }

  running(): boolean {
    return this.slot >= 0 && started(this.#owner.slots.states, this.slot)
  }

  tryCancel(): boolean {
    return this.slot < 0 || cancel(this.#owner.slots.states, this.slot)
  }

  /** However its future was settled (by its task, its user or a cancel), the job stops counting as work, once. */
  settled(): void {
    this.#owner.retire(this)
  }

  /** Takes back a task no worker has started, so no worker can start it; false if one did. */
  steal(): boolean {
    return cancel(this.#owner.slots.states, this.slot)
  }

  /** Requests a stop of the running task; false if it is not running. */
  markInterrupted(reason: unknown): boolean {
    if (this.slot < 0 || !interrupt(this.#owner.slots.states, this.slot)) return false
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
