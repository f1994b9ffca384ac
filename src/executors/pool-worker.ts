// The pool's side of one worker thread: the Worker, its port, the jobs it
// holds, and how many more it should be given.

import { MessageChannel, Worker, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads'
import { inspect } from 'node:util'
import { doorbellBuffer } from '../concurrent/blocking.js'
import type { Job, TaskSlots } from './job.js'
import type { TaskSpec } from './task.js'
import { CHUNK, type TaskBatch, type ThreadWorkerData, type ToWorker } from '../wire/protocol.js'
import { encodeThrown } from '../wire/error-codec.js'

const entry = new URL('../../workers/thread-worker.js', import.meta.url)

/** Keep about this much work queued in each worker beyond the task it runs. */
const TARGET_QUEUED_MS = 1
const MAX_WINDOW = 512

export interface WorkerSettings {
  name: string
  slots: TaskSlots
  resourceLimits: ResourceLimits | undefined
  initializer: TaskSpec | undefined
  initargs: unknown[]
}

export class PoolWorker {
  readonly thread: Worker
  readonly port: MessagePort
  readonly jobs = new Map<number, Job>()
  /** Jobs assigned but not yet posted; posted together once per dispatch. */
  #outbox: Job[] = []
  #knownFunctions = new Set<number>()
  #avgTaskMs: number | undefined
  assigned = 0
  idleTimer: NodeJS.Timeout | undefined
  exited = false
  /** Slots of jobs taken back from this worker, to free once its thread has really stopped. */
  readonly slotsToFree: number[] = []
  retiring = false
  error: unknown

  constructor(
    readonly index: number,
    settings: WorkerSettings,
  ) {
    const { port1, port2 } = new MessageChannel()
    const workerData: ThreadWorkerData = {
      name: settings.name,
      port: port2,
      doorbell: doorbellBuffer,
      slots: settings.slots.buffer,
      initargs: settings.initargs,
      ...(settings.initializer ? { initializer: settings.initializer } : {}),
    }
    this.port = port1
    this.thread = new Worker(entry, {
      name: settings.name,
      workerData,
      transferList: [port2],
      ...(settings.resourceLimits ? { resourceLimits: settings.resourceLimits } : {}),
    })
    this.thread.on('error', (error) => (this.error = error))
  }

  /** How many jobs this worker may hold: about TARGET_QUEUED_MS of work, at least two so it never idles between messages. */
  get window(): number {
    if (this.#avgTaskMs === undefined) return 2
    return Math.min(MAX_WINDOW, Math.max(2, Math.ceil(TARGET_QUEUED_MS / Math.max(this.#avgTaskMs, 0.0005)) + 1))
  }

  recordBatch(count: number, busyMs: number): void {
    const sample = busyMs / count
    this.#avgTaskMs = this.#avgTaskMs === undefined ? sample : this.#avgTaskMs * 0.7 + sample * 0.3
  }

  assign(job: Job): void {
    clearTimeout(this.idleTimer)
    this.jobs.set(job.id, job)
    this.#outbox.push(job)
    this.assigned++
  }

  /** Posts the assigned jobs; returns those that could not be sent (their arguments do not clone). */
  flush(fnIds: (spec: TaskSpec) => number): Array<[Job, Error]> {
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
    this.#send({ interrupt: job.slot, reason: encodeThrown(job.interruptReason) })
  }

  setRef(ref: boolean): void {
    if (ref) {
      this.thread.ref()
      this.port.ref()
    } else {
      this.thread.unref()
      this.port.unref()
    }
  }

  #post(jobs: Job[], fnIds: (spec: TaskSpec) => number): boolean {
    const batch: TaskBatch = { tasks: [] }
    const transfer: TransferListItem[] = []
    const newFunctions: number[] = []
    for (const job of jobs) {
      const fnId = fnIds(job.spec)
      if (!this.#knownFunctions.has(fnId) && !newFunctions.includes(fnId)) {
        newFunctions.push(fnId)
        ;(batch.defs ??= []).push([fnId, job.spec])
      }
      batch.tasks.push(job.id, job.slot, fnId, job.args, job.flags)
      transfer.push(...job.transfer)
    }
    try {
      this.#send(batch, transfer)
    } catch {
      return false
    }
    for (const fnId of newFunctions) this.#knownFunctions.add(fnId)
    return true
  }

  #send(message: ToWorker, transfer: TransferListItem[] = []): void {
    this.port.postMessage(message, transfer)
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
