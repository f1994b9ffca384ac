// The pool's side of one worker (a thread or a child process): the jobs it
// holds, how many more it should be given, and how they are sent. Subclasses
// say how a message reaches their worker.

import type { TransferListItem } from 'node:worker_threads'
import { inspect } from 'node:util'
import { describeExit, WorkerLost, type WorkerExit } from '../concurrent/errors.js'
import type { Job } from './job.js'
import type { Pin } from './pin.js'
import { CHUNK, pushTask, type TaskBatch } from '../wire/batches.js'
import type { Channel } from '../wire/channel.js'
import { encodeThrown } from '../wire/error-codec.js'
import type { ToWorker } from '../wire/protocol.js'
import { MAX_JOBS_PER_WORKER } from '../wire/slots.js'
import type { FunctionIds } from '../wire/task-spec.js'

/** Keep about this much work queued in each worker beyond the task it runs. */
const TARGET_QUEUED_MS = 1
/**
 * The fewest jobs a worker may hold: the one it runs and the next, so a
 * worker that claims each task as it starts it never idles between messages.
 */
const MIN_WINDOW = 2

export abstract class PoolMember {
  readonly #jobs = new Map<number, Job>()
  /** How many of `jobs` may be interrupted (Job.interruptible). */
  interruptible = 0
  /** How many of `jobs` are streams (Job.stream). */
  streams = 0
  /** Jobs assigned but not yet sent; sent together once per dispatch. */
  #outbox: Job[] = []
  #knownFunctions = new Set<number>()
  #avgTaskMs: number | undefined
  assigned = 0
  idleTimer: NodeJS.Timeout | undefined
  exited = false
  /** It said it is ready: its entry, preloads and initializer ran (see WorkerPool's start-up rule). */
  ready = false
  /** Slots of jobs taken back from this worker, to free once it has really stopped. */
  readonly slotsToFree: number[] = []
  retiring = false
  error: unknown
  /** Remote objects living in this worker: it is not recycled while it holds any. */
  readonly pinned = new Set<Pin>()

  /** The jobs it holds, by id; changed only by assign(), remove() and clear(), which keep `interruptible` and `streams` true to it. */
  get jobs(): ReadonlyMap<number, Job> {
    return this.#jobs
  }

  constructor(
    readonly index: number,
    /** How messages reach the worker: an interrupt's reason is encoded for it. */
    readonly channel: Channel,
  ) {}

  /** How many jobs this worker may hold: the one it runs and about TARGET_QUEUED_MS more. */
  get window(): number {
    if (this.#avgTaskMs === undefined) return MIN_WINDOW
    return Math.min(MAX_JOBS_PER_WORKER, Math.max(MIN_WINDOW, Math.floor(TARGET_QUEUED_MS / Math.max(this.#avgTaskMs, 0.0005)) + 1))
  }

  recordBatch(count: number, busyMs: number): void {
    const sample = busyMs / count
    this.#avgTaskMs = this.#avgTaskMs === undefined ? sample : this.#avgTaskMs * 0.7 + sample * 0.3
  }

  assign(job: Job): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer)
      this.idleTimer = undefined
    }
    this.#jobs.set(job.id, job)
    if (job.interruptible) this.interruptible++
    if (job.stream) this.streams++
    this.#outbox.push(job)
    this.assigned++
  }

  /** It no longer holds `job` (answered for, or taken back). */
  remove(job: Job): void {
    if (!this.#jobs.delete(job.id)) return
    if (job.interruptible) this.interruptible--
    if (job.stream) this.streams--
  }

  clear(): void {
    this.#jobs.clear()
    this.interruptible = this.streams = 0
  }

  /**
   * The worker is gone: its remote objects are lost, each job it started
   * fails (`lostError`, unless the pool had interrupted it), and it gives up
   * the rest. `live`: the jobs not yet settled as it went; `unstarted`: those
   * to run again. Their slots are kept in slotsToFree until it has really stopped.
   */
  lose(exit: WorkerExit, cause: unknown, lostError: () => Error): { live: Job[]; unstarted: Job[] } {
    for (const pin of this.pinned) {
      pin.lost = new WorkerLost(`${pin.name} is gone: the worker that held it ${describeExit(exit)}`, exit, { cause })
    }
    const live = [...this.#jobs.values()].filter((job) => !job.future.done())
    const unstarted: Job[] = []
    for (const job of this.#jobs.values()) {
      this.slotsToFree.push(job.slot)
      if (job.future.done()) continue
      if (!job.steal()) job.settle(false, job.interruptReason ?? job.pin?.lost ?? lostError())
      else if (job.pin?.lost) job.settle(false, job.pin.lost)
      else unstarted.push(job)
    }
    this.clear()
    return { live, unstarted }
  }

  /** Sends the assigned jobs; returns those that could not be sent (their arguments do not clone). */
  flush(fnIds: FunctionIds): Array<[Job, Error]> {
    if (this.#outbox.length === 0) return []
    const jobs = this.#outbox
    this.#outbox = []
    if (this.#post(jobs, fnIds)) return []
    // One bad argument must not sink the batch: send each job alone.
    const failed: Array<[Job, Error]> = []
    for (const job of jobs) {
      if (!this.#post([job], fnIds)) failed.push([job, cloneError(job)])
    }
    return failed
  }

  interrupt(job: Job): void {
    this.send({ interrupt: job.slot, reason: encodeThrown(job.interruptReason, this.channel) })
  }

  /** Lets the streamed `job` produce `credit` more items. */
  grant(job: Job, credit: number): void {
    this.send({ stream: job.id, credit })
  }

  protected abstract send(message: ToWorker, transfer?: TransferListItem[]): void

  #post(jobs: Job[], fnIds: FunctionIds): boolean {
    const batch: TaskBatch = { tasks: [] }
    const transfer: TransferListItem[] = []
    const newFunctions: number[] = []
    for (const job of jobs) {
      const fnId = fnIds.of(job.spec)
      if (!this.#knownFunctions.has(fnId) && !newFunctions.includes(fnId)) {
        newFunctions.push(fnId)
        ;(batch.defs ??= []).push([fnId, job.spec])
      }
      pushTask(batch.tasks, job.id, job.slot, fnId, job.args, job.flags)
      for (const item of job.transfer) transfer.push(item)
    }
    try {
      this.send(batch, transfer)
    } catch {
      return false
    }
    for (const fnId of newFunctions) this.#knownFunctions.add(fnId)
    return true
  }
}

/** Names the argument that cannot travel, and why. */
function cloneError(job: Job): Error {
  const lists = job.flags & CHUNK ? (job.args as unknown[][]) : [job.args]
  for (const args of lists) {
    for (const [index, arg] of args.entries()) {
      try {
        structuredClone(arg)
      } catch (error) {
        const hint = typeof arg === 'function'
          ? 'functions cannot be sent to a worker: export it from a module and pass data instead'
          : (error as Error).message
        return new TypeError(`argument ${index} of the task cannot be sent to a worker (${inspect(arg, { depth: 0 })}): ${hint}`, { cause: error })
      }
    }
  }
  return new TypeError('the task could not be sent to a worker: its transfer list is invalid (was a buffer already transferred?)')
}
