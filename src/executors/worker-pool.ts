// WorkerPool: the dispatch both pools share. Subclasses say how a worker
// starts, how its messages arrive and how it stops.
//
// How a call travels (read with job.ts, pool-member.ts, the executor file,
// and workers/task-runner.ts):
//
//   submit(fn, ...args)
//     │  a Future and a Job; the Job joins the pool's queue (by priority,
//     │  then first in first out)
//     ▼
//   #dispatch (once per tick, or inside a blocked result())
//     │  gives each worker up to its window of Jobs (~1 ms of work; the
//     │  worker chosen by dispatch-policy.ts), each with a task slot
//     │  (wire/slots.ts), one message per worker (wire/batches.ts)
//     ▼
//   thread-pool.ts: postMessage to the worker thread
//   process-pool.ts: postMessage to the relay thread, which sends it on to
//     │  the child when the child is free (workers/process-relay.ts)
//     ▼
//   claim: the task's slot PENDING→RUNNING (by the worker thread as it
//     │  starts the task, or by the relay as it sends it to the child); a
//     │  lost race means it was cancelled
//     ▼
//   worker: runs it, collects results
//     ▼
//   one message of results per batch (or per ms), then the doorbell rings
//     │  delivered by the event loop, or pulled by a blocked result()
//     ▼
//   receive: settle each Future, refill the worker's window
//
// A stream (stream()) travels the same way, alone on its worker; its items
// come back as they are yielded, before its result, and the consumer's
// credit goes to the worker (task-stream.ts, workers/stream-runner.ts).
//
// The executor's life (shutdown, drained, broken) is lifecycle.ts; which
// workers run and when one retires crew.ts; timeouts and grace periods
// deadlines.ts; when the pool gives up on its workers worker-loss.ts.

import { availableParallelism } from 'node:os'
import type { TransferListItem } from 'node:worker_threads'
import { addSource, removeSource } from '../concurrent/blocking.js'
import { CancelledError, TimeoutError, type BrokenExecutor, type WorkerExit } from '../concurrent/errors.js'
import type { Future } from '../concurrent/future.js'
import { checkRange, MAX_WORKERS } from '../concurrent/validate.js'
import { decodeThrown } from '../wire/error-codec.js'
import { FAILED, OK, resultCount, resultId, resultPayload, resultStatus } from '../wire/batches.js'
import type { FromWorker } from '../wire/protocol.js'
import { MAX_JOBS_PER_WORKER, TaskSlots } from '../wire/slots.js'
import { FunctionIds, type TaskSpec } from '../wire/task-spec.js'
import { Autoscale } from './autoscale.js'
import { Crew } from './crew.js'
import { Deadlines } from './deadlines.js'
import { pickWorker, SPAWN, type DispatchLimits } from './dispatch-policy.js'
import { Executor, type ShutdownOptions, type SubmitOptions } from './executor.js'
import { Job, type JobOwner } from './job.js'
import { JobQueue } from './job-queue.js'
import { followSignal, Lifecycle } from './lifecycle.js'
import { registerPinning, type Pin } from './pin.js'
import type { PoolMember } from './pool-member.js'
import type { PoolOptions } from './pool-options.js'
import { startFailure } from './start-failure.js'
import { callerFrames, noSite, submitSite } from './submit-site.js'
import { specOf, type AnyFn, type Task } from './task.js'
import { OpenStreams, StreamReader, type TaskStream } from './task-stream.js'
import { diedAtStart, diesAtStart, FruitlessDeaths, type Breakage, type PoolKind } from './worker-loss.js'

/** What differs between the two pools, besides the methods they implement. */
export interface PoolTraits {
  /** Replace a worker after it has run this many tasks (default: never). */
  maxTasksPerWorker: number | undefined
  /** See DispatchLimits.interruptAlone. */
  interruptAlone: boolean
}

const NO_TRANSFER: readonly TransferListItem[] = Object.freeze([])

export abstract class WorkerPool<M extends PoolMember> extends Executor {
  readonly maxWorkers: number
  protected readonly initializer: TaskSpec | undefined
  protected readonly initargs: unknown[]
  protected readonly slots: TaskSlots
  /** How long an interrupted task may take to stop before its worker is killed. */
  protected readonly graceMs: number
  readonly #limits: DispatchLimits
  readonly #submitStacks: boolean
  readonly #autoscale: Autoscale | undefined
  readonly #fnIds = new FunctionIds()
  readonly #crew: Crew<M>
  readonly #queue: JobQueue
  #nextId = 1
  #kickScheduled = false
  readonly #life = new Lifecycle({
    setRef: (ref) => this.setRef(ref),
    close: () => this.#close(),
    refusal: (broken) => this.brokenError(broken.message, broken.cause),
  })
  /** Timed actions of jobs: timeouts, grace periods. */
  readonly #deadlines = new Deadlines<Job>()
  readonly #fruitless = new FruitlessDeaths()
  /**
   * Busy while a job could still settle (a timeout ends a stalled stream too). The workers that could run
   * one are those running now, past the autoscaler's target too, and those it may still start.
   */
  readonly #source = {
    drain: () => this.#drain(),
    busy: () => this.#streams.allowProgress(this.#life.live, Math.max(this.members.length, this.#target())) || this.#deadlines.wakeAt() < Infinity,
    wakeAt: () => this.#deadlines.wakeAt(),
    waitsForThisThread: () => this.#streams.deadlockHint(),
  }
  readonly #streams = new OpenStreams()
  readonly #jobOwner: JobOwner

  /** `options` are checked against poolSchema by the subclass. */
  constructor(options: PoolOptions, traits: PoolTraits) {
    super()
    this.maxWorkers = options.maxWorkers ?? Math.min((options.autoscale ? 4 : 1) * availableParallelism(), MAX_WORKERS)
    this.#limits = { workers: this.maxWorkers, maxTasksPerWorker: traits.maxTasksPerWorker ?? Infinity, interruptAlone: traits.interruptAlone }
    this.#queue = new JobQueue(options.maxQueued ?? Infinity)
    this.graceMs = options.interruptGraceMs ?? 1000
    this.initializer = options.initializer === undefined ? undefined : specOf(options.initializer)
    this.initargs = [...(options.initargs ?? [])]
    this.#submitStacks = options.submitStacks ?? true
    this.slots = new TaskSlots(this.maxWorkers)
    this.#jobOwner = { slots: this.slots, retire: (job) => this.#retire(job) }
    this.#crew = new Crew({
      maxTasksPerWorker: this.#limits.maxTasksPerWorker,
      idleTimeoutMs: options.idleTimeoutMs ?? Infinity,
      target: () => this.#target(),
      spawn: (index) => this.spawn(index),
      stop: (member) => this.stop(member, false),
    })
    if (options.autoscale) {
      const minWorkers = (options.autoscale === true ? undefined : options.autoscale.minWorkers) ?? 1
      checkRange(minWorkers, this.maxWorkers, 'autoscale.minWorkers', 'maxWorkers')
      this.#autoscale = new Autoscale({ live: () => this.#life.live, workers: () => this.members.length, starting: () => this.members.some((m) => !m.ready), retireExcess: () => this.#crew.retireExcess() }, minWorkers, this.maxWorkers)
    }
    addSource(this.#source)
    registerPinning(this)
  }

  /** Workers running now (with autoscale, what it chose; otherwise up to maxWorkers, started as work needs them). */
  get workerCount(): number {
    return this.members.length
  }

  protected get members(): readonly M[] {
    return this.#crew.list
  }

  /** Starts worker number `index`; its messages must reach receive(), its exit exited(). */
  protected abstract spawn(index: number): M
  /** Calls receive() for every message already delivered, synchronously. */
  protected abstract drainMessages(): void
  /** Stops a worker: once its work is done, or (`kill`) at once, by SIGKILL or the signal named. */
  protected abstract stop(member: M, kill: boolean | 'SIGTERM'): void
  /** Stops every worker and resolves when they are gone. */
  protected abstract stopAll(members: readonly M[]): Promise<void>
  /** The error for a task whose worker died under it; `cause` is what the worker threw, if known. */
  protected abstract lostError(exit: WorkerExit, cause: unknown): Error
  protected abstract brokenError(message: string, cause: unknown): BrokenExecutor
  /** Why the pool broke when an initializer threw (Python's wording for each pool). */
  protected abstract readonly initFailedMessage: string
  /** What this pool's workers are called, and the pool, in messages. */
  protected abstract readonly kind: PoolKind
  /** Busy pools keep the process alive, idle ones do not. */
  protected abstract setRef(ref: boolean): void

  override hasRoom(): boolean {
    return this.#queue.hasRoom()
  }

  override whenRoom(): Promise<void> {
    if (this.hasRoom() || this.#life.isShutdown || this.#life.broken) return Promise.resolve()
    return this.#queue.whenRoom()
  }

  override shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#life.shutdown(options, (cancelFutures) => {
      this.#queue.wakeWaiters()
      if (!cancelFutures) return
      for (const job of this.#queue.all()) job.future.cancel()
      for (const member of this.members) for (const job of member.jobs.values()) job.future.cancel()
    })
  }

  /**
   * Python 3.14's terminate_workers(): stops every worker now (SIGTERM for a
   * child; a thread is terminated), then shuts down. Running futures fail
   * with the pool's Broken error naming this call, pending ones are
   * cancelled. Resolves once the workers are gone; after the pool closed
   * (shut down and drained, or broken) it does nothing.
   */
  terminateWorkers(): Promise<void> {
    return this.#stopNow('SIGTERM', 'terminateWorkers()')
  }

  /** Python 3.14's kill_workers(): terminateWorkers() with SIGKILL for a child (for a thread the two are the same). */
  killWorkers(): Promise<void> {
    return this.#stopNow(true, 'killWorkers()')
  }

  #stopNow(kill: true | 'SIGTERM', call: string): Promise<void> {
    if (this.#life.closing) return this.#life.close()
    const closed = this.shutdown() // first, so nothing the cancels below call back can submit
    for (const job of this.#queue.takeAll()) job.future.cancel()
    for (const member of this.members) {
      for (const job of member.jobs.values()) {
        if (!job.future.cancel()) job.settle(false, this.brokenError(`${call} stopped the ${this.kind.worker} running this task`, undefined))
      }
      member.clear()
      member.retiring = true
      this.stop(member, kill)
    }
    return closed
  }

  override [Symbol.dispose](): void {
    void this.shutdown()
    this.#life.waitDrained(`the ${this.constructor.name}`)
  }

  /** @internal Pinning (pin.ts): runs `fn(...args)` on the worker `pin` is bound to, after its earlier calls. */
  submitPinned(pin: Pin, fn: Task<AnyFn>, args: unknown[], options: SubmitOptions): Future<unknown> {
    return this.schedule(fn, args, options, false, pin)
  }

  /** @internal Pinning (pin.ts): the series is over, its worker may be recycled again. */
  unpin(pin: Pin): void {
    this.#crew.unpinned(pin)
  }

  protected override scheduleStream(fn: Task<AnyFn>, args: unknown[], options: SubmitOptions): TaskStream<unknown, unknown> {
    const stream = new StreamReader()
    this.schedule(fn, args, options, false, undefined, stream)
    this.#streams.add(stream)
    return stream
  }

  protected override schedule(fn: Task<AnyFn>, args: unknown[], options: SubmitOptions, chunk: boolean, pin?: Pin, stream?: StreamReader): Future<unknown> {
    this.#life.checkOpen()
    this.#queue.checkRoom()
    const { signal, transfer = NO_TRANSFER, timeoutMs, priority = 0 } = options // checked by submitWith()
    const site = this.#submitStacks ? submitSite() : noSite
    const job = new Job(this.#jobOwner, { id: this.#nextId++, spec: specOf(fn), args, chunk, transfer, submitSite: site, timeoutMs, signalled: signal !== undefined, pin, priority, stream })
    stream?.connect(job.future, {
      grant: (credit) => this.#crew.holding(job)?.grant(job, credit),
      // A settled job's slot may be another's by now: a settled one is stopped only while its worker still runs it.
      stop: () => {
        if (!job.future.done() || this.#crew.holding(job)) this.#interrupt(job, new CancelledError('the consumer stopped the stream before the task returned'))
      },
    })
    this.#life.started()
    this.#queue.push(job)
    this.#kick()
    if (signal) followSignal(job.future, signal, (reason) => this.#interrupt(job, reason))
    return job.future
  }

  #retire(job: Job): void {
    this.#deadlines.cancel(job)
    this.#life.finished()
    this.#queue.settled(job)
  }

  #kick(): void {
    if (this.#kickScheduled) return
    this.#kickScheduled = true
    queueMicrotask(() => {
      this.#kickScheduled = false
      this.#dispatch()
    })
  }

  #dispatch(): void {
    if (this.#life.broken) return
    for (let job = this.#queue.peek(); job; job = this.#queue.peek()) {
      if (job.future.done()) {
        this.#queue.shift()
        continue
      }
      if (job.pin?.lost) {
        this.#queue.shift()
        job.settle(false, job.pin.lost)
        continue
      }
      // Slots come back as results arrive and as gone workers really stop.
      if (this.slots.available === 0) break
      // A pinned task goes to its worker past its window (its order matters, not its balance), but
      // waits, in its place in the queue, while that worker holds as many jobs as any may.
      const member = (job.pin?.member as M | undefined) ?? this.#pickMember(job)
      if (!member || member.jobs.size >= MAX_JOBS_PER_WORKER) break
      this.#queue.shift()
      job.slot = this.slots.take()
      member.assign(job)
      if (job.pin && !job.pin.member) {
        job.pin.member = member
        member.pinned.add(job.pin)
      }
    }
    this.#queue.wakeWaiters(true)
    for (const member of this.members) {
      for (const [job, error] of member.flush(this.#fnIds)) this.#finish(member, job, false, error)
    }
  }

  #pickMember(job: Job): M | undefined {
    this.#limits.workers = this.#target()
    const pick = pickWorker(this.members, job.interruptible, this.#limits, job.stream !== undefined)
    if (pick !== SPAWN) return pick
    try {
      return this.#crew.start()
    } catch (error) {
      // Node refused to start it (the permission model, bad options): as if it had died at start.
      this.break(startFailure(`A ${this.kind.worker} could not be started`, this.kind.pool, error), error)
      return undefined
    }
  }

  /** How many workers may take work now: maxWorkers, or the autoscaler's target (the ones past it go once idle). */
  #target(): number {
    return this.#autoscale?.target ?? this.maxWorkers
  }

  #drain(): void {
    this.drainMessages()
    this.#deadlines.runDue()
    this.#dispatch()
  }

  protected receive(member: M, message: FromWorker): void {
    if ('results' in message) {
      const { results } = message
      const count = resultCount(results)
      for (let k = 0; k < count; k++) {
        const job = member.jobs.get(resultId(results, k))
        if (!job) continue
        const status = resultStatus(results, k)
        if (status === OK) this.#finish(member, job, true, resultPayload(results, k))
        else if (status === FAILED) this.#finish(member, job, false, job.interruptReason ?? decodeThrown(resultPayload(results, k) as never, callerFrames(job.submitSite)))
        // Skipped: it was cancelled (or its user settled it), so its future is done. A live one is never
        // settled with nothing: it did not run, so it runs again (unreachable while slots are kept right).
        else if (job.future.done()) this.#finish(member, job, false, undefined)
        else {
          this.slots.release(job.slot) // the worker is done with it
          this.#requeue(member, [job])
        }
      }
      this.#fruitless.reset()
      if (this.#autoscale) this.#autoscale.completed += count
      member.recordBatch(count, message.busyMs)
      if (member.jobs.size === 0) this.#crew.idle(member)
      this.#dispatch()
    } else if (message.event === 'progress') {
      member.jobs.get(message.id)?.future.deliverProgress(message.value)
    } else if (message.event === 'items') {
      member.jobs.get(message.id)?.stream?.push(message.items)
    } else if (message.event === 'started') {
      const job = member.jobs.get(message.id)
      if (job?.timeoutMs !== undefined) {
        const error = new TimeoutError(`the task ran longer than its timeoutMs (${job.timeoutMs} ms)`)
        this.#deadlines.after(job, job.timeoutMs, () => this.#interrupt(job, error))
      }
    } else if (message.event === 'ready') {
      member.ready = true
    } else if (message.event === 'init-failed') {
      this.break(this.initFailedMessage, decodeThrown(message.error))
    } else {
      this.exited(member, { exitCode: message.code }, message.error && decodeThrown(message.error))
    }
  }

  #finish(member: M, job: Job, ok: boolean, value: unknown): void {
    member.remove(job)
    this.slots.release(job.slot)
    job.settle(ok, value)
  }

  /** A worker is gone on its own; subclasses may break the pool instead of replacing it. */
  protected exited(member: M, exit: WorkerExit, cause: unknown): void {
    this.lost(member, exit, cause)
  }

  /** Whether this end is a death at start (see worker-loss.ts). */
  protected diesAtStart(member: M, exit: WorkerExit): boolean {
    return diesAtStart(member, exit)
  }

  /**
   * A worker is gone, or going: the jobs it had not started go back to the
   * queue, the ones it was running fail. Until it has really stopped (for a
   * child: until its relay let go of it), it or its relay could still touch
   * its slots, so they are freed by released(), never here.
   */
  protected lost(member: M, exit: WorkerExit, cause: unknown): void {
    if (member.exited) return
    member.exited = true
    const why = cause ?? member.error
    if (diesAtStart(member, exit)) return this.#breakWith(diedAtStart(this.kind, exit, why))
    this.#crew.remove(member)
    const { live, unstarted } = member.lose(exit, why, () => this.lostError(exit, why))
    this.#requeue(undefined, unstarted)
    const fruitless = member.retiring ? undefined : this.#fruitless.died(live, this.kind, exit, why)
    if (fruitless) return this.#breakWith(fruitless)
    this.#dispatch()
  }

  /** Puts jobs no worker started back in their place in the queue (job-queue.ts), to be given fresh slots. */
  #requeue(member: M | undefined, jobs: Job[]): void {
    for (const job of jobs) {
      member?.remove(job)
      job.slot = -1
    }
    this.#queue.putBack(jobs)
  }

  /** The worker has really stopped: slots it or its relay might still have touched are free. */
  protected released(member: M): void {
    if (member.slotsToFree.length === 0) return
    for (const slot of member.slotsToFree.splice(0)) this.slots.release(slot)
    this.#dispatch()
  }

  /** Cancels `job` if it has not started; otherwise asks it to stop, and kills its worker after the grace period. */
  #interrupt(job: Job, reason: unknown): void {
    if (job.future.cancel() || !job.markInterrupted(reason)) return
    const member = this.#crew.holding(job)
    if (!member) return
    member.interrupt(job)
    this.#deadlines.after(job, this.graceMs, () => {
      member.retiring = true // stopped by the pool: not a death at start, however early
      this.stop(member, true)
      this.lost(member, {}, undefined)
    })
  }

  #breakWith({ message, cause }: Breakage): void {
    this.break(message, cause)
  }

  /** Fails every pending and running future, and refuses new ones, as Python's broken pools do. */
  protected break(message: string, cause: unknown, futureMessage = message): void {
    if (!this.#life.break(this.brokenError(message, cause))) return
    this.#queue.wakeWaiters()
    const jobs = [...this.#queue.takeAll(), ...this.members.flatMap((m) => [...m.jobs.values()])]
    for (const member of this.members) member.clear()
    for (const job of jobs) job.settle(false, this.brokenError(futureMessage, cause))
    void this.#life.close()
  }

  async #close(): Promise<void> {
    this.#autoscale?.stop()
    removeSource(this.#source)
    await this.stopAll(this.#crew.takeAll())
  }
}
