// WorkerPool: the dispatch both pools share. Subclasses say how a worker
// starts, how its messages arrive and how it stops.
//
// How a call travels (read with job.ts, pool-member.ts, the executor file,
// and workers/task-runner.ts):
//
//   submit(fn, ...args)
//     │  a Future and a Job; the Job joins the pool's FIFO queue
//     ▼
//   #dispatch (once per tick, or inside a blocked result())
//     │  gives each worker up to its window of Jobs (~1 ms of work), each
//     │  with a shared-memory slot, one message per worker
//     ▼
//   thread-pool.ts: postMessage to the worker thread
//   process-pool.ts: postMessage to the relay thread, which sends it on to
//     │  the child when the child is free (workers/process-relay.ts)
//     ▼
//   claim: compareExchange of the task's slot PENDING→RUNNING (by the worker
//     │  thread as it starts the task, or by the relay as it sends it to the
//     │  child); a lost race means it was cancelled
//     ▼
//   worker: runs it, collects results
//     ▼
//   one message of results per batch (or per ms), then the doorbell rings
//     │  delivered by the event loop, or pulled by a blocked result()
//     ▼
//   receive: settle each Future, refill the worker's window

import { availableParallelism } from 'node:os'
import { addSource, blockUntil, removeSource } from '../concurrent/blocking.js'
import { describeExit, ExecutorShutdownError, QueueFullError, TimeoutError, WorkerLost, type BrokenExecutor, type WorkerExit } from '../concurrent/errors.js'
import { Future } from '../concurrent/future.js'
import { longTimeout } from '../concurrent/long-timer.js'
import { boolean, checkRange, cloneables, flagOr, integer, MAX_WORKERS, milliseconds, nested, positiveInteger, type Schema } from '../concurrent/validate.js'
import { decodeThrown } from '../wire/error-codec.js'
import { CHUNK, FAILED, FLUSH_FIRST, OK, REPORT_START, type FromWorker } from '../wire/protocol.js'
import { checkShutdownOptions, Executor, type ShutdownOptions, type SubmitOptions } from './executor.js'
import { Autoscale, type AutoscaleOptions } from './autoscale.js'
import { Job, MAX_JOBS_PER_WORKER, TaskSlots, type Pin } from './job.js'
import { startFailure } from './start-failure.js'
import { callerFrames, noSite, submitSite } from './submit-site.js'
import type { PoolMember } from './pool-member.js'
import { checkTask, specKey, specOf, type AnyFn, type Task, type TaskSpec } from './task.js'

/** Options both local pools take: size, initializer, timeouts, queue bound. */
export interface PoolOptions {
  /** Most workers at once, at most MAX_WORKERS (1024; default: os.availableParallelism(), 4× that with autoscale). Workers start as work needs them. */
  maxWorkers?: number
  /**
   * Size the pool at run time, between minWorkers (default 1) and maxWorkers,
   * by hill climbing on completions per second (see autoscale.ts). Default false.
   */
  autoscale?: boolean | AutoscaleOptions
  /** Runs in each worker before its first task; if it throws, the pool breaks. */
  initializer?: Task<AnyFn>
  initargs?: readonly unknown[]
  /** Stop a worker that has been idle this long (default: never; idle workers never keep the process alive). */
  idleTimeoutMs?: number
  /** How long an interrupted task may take to stop before its worker is killed (default 1000). */
  interruptGraceMs?: number
  /**
   * At most this many tasks waiting for a worker (default: no limit). Beyond
   * it submit() throws QueueFullError; runInExecutor() waits for room.
   */
  maxQueued?: number
  /**
   * Record where each submit() was called, so a task's error shows it below
   * the worker's frames (default true). It costs a few µs per task message;
   * turn it off for floods of tiny tasks, or use map() with a chunksize.
   */
  submitStacks?: boolean
}

/** The checks of the options both pools take. */
export const poolSchema: Schema<PoolOptions> = {
  maxWorkers: integer(1, MAX_WORKERS, 'MAX_WORKERS'),
  autoscale: flagOr(nested<AutoscaleOptions>({ minWorkers: integer(1, MAX_WORKERS, 'MAX_WORKERS') })),
  initializer: checkTask,
  initargs: cloneables,
  idleTimeoutMs: milliseconds,
  interruptGraceMs: milliseconds,
  maxQueued: positiveInteger,
  submitStacks: boolean,
}
/** Workers in a row that may end with their work unfinished and unfailed before the pool gives up on replacing them. */
const MAX_FRUITLESS_DEATHS = 5

export abstract class WorkerPool<M extends PoolMember> extends Executor {
  readonly maxWorkers: number
  protected readonly initializer: TaskSpec | undefined
  protected readonly initargs: unknown[]
  protected readonly slots: TaskSlots
  protected members: M[] = []
  readonly #maxTasksPerWorker: number
  readonly #maxQueued: number
  #roomWaiters: Array<() => void> = []
  readonly #idleTimeoutMs: number
  /** How long an interrupted task may take to stop before its worker is killed. */
  protected readonly graceMs: number
  readonly #submitStacks: boolean
  readonly #autoscale: Autoscale | undefined
  readonly #fnIds = new Map<string, number>()
  #queue: Job[] = []
  #head = 0
  /** Jobs submitted and not yet settled or cancelled. */
  #live = 0
  #nextId = 1
  #kickScheduled = false
  #shutdown = false
  #broken: BrokenExecutor | undefined
  #closing: Promise<void> | undefined
  /** Settles once the pool, shut down, has no more work. */
  #drained: Promise<void> | undefined
  #onDrained: (() => void) | undefined
  /** Jobs with a timed action pending (see Job.wakeAt). */
  readonly #timed = new Set<Job>()
  readonly #source = { drain: () => this.#drain(), busy: () => this.#live > 0, wakeAt: () => this.#wakeAt() }

  constructor(
    /** Checked against poolSchema by the subclass. */
    options: PoolOptions,
    maxTasksPerWorker: number | undefined,
    /**
     * Whether a worker holds tasks already claimed besides the one it runs
     * (a child process: its relay claims as it sends). Then a task that may be
     * interrupted travels alone, so stopping its worker costs no other task.
     */
    protected readonly interruptAlone: boolean,
  ) {
    super()
    this.maxWorkers = options.maxWorkers ?? Math.min((options.autoscale ? 4 : 1) * availableParallelism(), MAX_WORKERS)
    this.#maxTasksPerWorker = maxTasksPerWorker ?? Infinity
    this.#maxQueued = options.maxQueued ?? Infinity
    this.#idleTimeoutMs = options.idleTimeoutMs ?? Infinity
    this.graceMs = options.interruptGraceMs ?? 1000
    this.initializer = options.initializer === undefined ? undefined : specOf(options.initializer)
    this.initargs = [...(options.initargs ?? [])]
    this.#submitStacks = options.submitStacks ?? true
    this.slots = new TaskSlots(this.maxWorkers)
    if (options.autoscale) {
      const minWorkers = (options.autoscale === true ? undefined : options.autoscale.minWorkers) ?? 1
      checkRange(minWorkers, this.maxWorkers, 'autoscale.minWorkers', 'maxWorkers')
      this.#autoscale = new Autoscale({ live: () => this.#live, workers: () => this.members.length, starting: () => this.members.some((m) => !m.ready), retireExcess: () => this.#retireExcess() }, minWorkers, this.maxWorkers)
    }
    addSource(this.#source)
  }

  /** Workers running now (with autoscale, what it chose; otherwise up to maxWorkers, started as work needs them). */
  get workerCount(): number {
    return this.members.length
  }

  /** The autoscaler lowered its target: the workers past it take no new work (#pickMember), and stop once idle (#idle). */
  #retireExcess(): void {
    for (const member of this.members.slice(this.#autoscale!.target)) if (member.jobs.size === 0) this.#idle(member)
  }

  /** Starts worker number `index`; its messages must reach receive(), its exit exited(). */
  protected abstract spawn(index: number): M
  /** Calls receive() for every message already delivered, synchronously. */
  protected abstract drainMessages(): void
  /** Stops a worker: once its work is done, or (`kill`) at once, by SIGKILL or the signal named (a thread is terminated). */
  protected abstract stop(member: M, kill: boolean | 'SIGTERM'): void
  /** Stops every worker and resolves when they are gone. */
  protected abstract stopAll(members: M[]): Promise<void>
  /** The error for a task whose worker died under it; `cause` is what the worker threw, if known. */
  protected abstract lostError(exit: WorkerExit, cause: unknown): Error
  protected abstract brokenError(message: string, cause: unknown): BrokenExecutor
  /** Why the pool broke when an initializer threw (Python's wording for each pool). */
  protected abstract readonly initFailedMessage: string
  /** What this pool's workers are called, and the pool, in messages. */
  protected abstract readonly kind: { worker: string; pool: string }

  override hasRoom(): boolean {
    return this.#queue.length - this.#head < this.#maxQueued
  }

  override whenRoom(): Promise<void> {
    if (this.hasRoom() || this.#shutdown || this.#broken) return Promise.resolve()
    return new Promise((resolve) => this.#roomWaiters.push(resolve))
  }

  /** Wakes every whenRoom(); they check again, so more than fit may wake. */
  #wakeRoomWaiters(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve()
  }

  override shutdown(options?: ShutdownOptions): Promise<void> {
    const { wait = true, cancelFutures = false } = checkShutdownOptions(options)
    this.#shutdown = true
    this.#wakeRoomWaiters()
    if (cancelFutures) {
      for (const job of this.#queue.slice(this.#head)) job.future.cancel()
      for (const member of this.members) for (const job of member.jobs.values()) job.future.cancel()
    }
    this.#drained ??= this.#live === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#onDrained = resolve))
    const closed = this.#drained.then(() => this.#close())
    return wait ? closed : Promise.resolve()
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
    if (this.#closing) return this.#closing.then(() => undefined)
    this.#shutdown = true
    this.#wakeRoomWaiters()
    for (const job of this.#queue.slice(this.#head)) job.future.cancel()
    this.#queue = []
    this.#head = 0
    for (const member of this.members) {
      for (const job of member.jobs.values()) {
        if (!job.future.cancel()) job.settle(false, this.brokenError(`${call} stopped the ${this.kind.worker} running this task`, undefined))
      }
      member.jobs.clear()
      member.retiring = true
      this.stop(member, kill)
    }
    return this.shutdown()
  }

  override [Symbol.dispose](): void {
    void this.shutdown()
    blockUntil(() => this.#live === 0, Infinity, () => `disposing the ${this.constructor.name}`)
  }

  /** @internal Runs `fn(...args)` on the worker `pin` is bound to (the next free one, if it is not yet), after its earlier tasks, as submitWith() would. */
  submitPinned(pin: Pin, fn: Task<AnyFn>, args: unknown[], options: SubmitOptions): Future<unknown> {
    return this.schedule(fn, args, options, false, pin)
  }

  /** @internal The pinned object is gone: its worker may be recycled again. */
  unpin(pin: Pin): void {
    const member = this.members.find((m) => m.pinned.delete(pin))
    if (member?.jobs.size === 0) this.#idle(member)
  }

  protected override schedule(fn: Task<AnyFn>, args: unknown[], options: SubmitOptions, chunk: boolean, pin?: Pin): Future<unknown> {
    if (this.#broken) throw this.brokenError(this.#broken.message, this.#broken.cause)
    if (this.#shutdown) throw new ExecutorShutdownError('cannot schedule new futures after shutdown')
    if (!this.hasRoom()) {
      throw new QueueFullError(`${this.#maxQueued} tasks are already waiting for a worker (maxQueued): wait for some to start, with await whenRoom() or runInExecutor()`)
    }
    const { signal, transfer = [], timeoutMs } = options // checked by submitWith()
    const spec = specOf(fn)
    const future = new Future<unknown>()
    const interruptible = timeoutMs !== undefined || signal !== undefined
    const flags = (chunk ? CHUNK : 0) | (timeoutMs === undefined ? 0 : REPORT_START) | (interruptible ? FLUSH_FIRST : 0)
    const site = this.#submitStacks ? submitSite() : noSite
    const job = new Job(this.#nextId++, future, spec, args, flags, transfer, site, timeoutMs, interruptible, this.slots, this.#retire, pin)
    if (this.#live++ === 0) this.setRef(true)
    this.#queue.push(job)
    this.#kick()
    if (signal?.aborted) future.cancel()
    else if (signal) {
      const onAbort = (): void => this.#interrupt(job, signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      future.watch(() => signal.removeEventListener('abort', onAbort))
    }
    return future
  }

  readonly #retire = (job: Job): void => {
    this.#timed.delete(job)
    clearTimeout(job.timer)
    if (--this.#live > 0) return
    this.setRef(false)
    this.#onDrained?.()
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
    if (this.#broken) return
    while (this.#head < this.#queue.length) {
      const job = this.#queue[this.#head]!
      if (job.future.done()) {
        this.#head++
        continue
      }
      if (job.pin?.lost) {
        this.#head++
        job.settle(false, job.pin.lost)
        continue
      }
      // Slots come back as results arrive and as gone workers really stop.
      if (this.slots.available === 0) break
      // A pinned task goes to its worker past its window (its order matters, not its balance), but
      // waits, in its place in the queue, while that worker holds as many jobs as any may.
      const member = (job.pin?.member as M | undefined) ?? this.#pickMember(job)
      if (!member || member.jobs.size >= MAX_JOBS_PER_WORKER) break
      this.#head++
      job.slot = this.slots.take()
      member.assign(job)
      if (job.pin && !job.pin.member) {
        job.pin.member = member
        member.pinned.add(job.pin)
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    }
    if (this.#roomWaiters.length > 0 && this.hasRoom()) this.#wakeRoomWaiters()
    for (const member of this.members) {
      for (const [job, error] of member.flush(this.#fnId)) this.#finish(member, job, false, error)
    }
  }

  /** The least loaded worker with room; a new one while there is no idle worker and room for more. */
  #pickMember(job: Job): M | undefined {
    const alone = this.interruptAlone && job.interruptible
    const limit = this.#autoscale?.target ?? this.maxWorkers
    let best: M | undefined
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[i]!
      if (i >= limit) break // past an autoscaled pool's target: left to go idle and stop
      // A worker holding remote objects cannot be recycled, so its quota does not stop it taking work.
      const spent = member.assigned >= this.#maxTasksPerWorker && member.pinned.size === 0
      if (member.retiring || member.jobs.size >= member.window || spent) continue
      if (this.interruptAlone && (alone ? member.jobs.size > 0 : [...member.jobs.values()].some((j) => j.interruptible))) continue
      if (!best || member.jobs.size < best.jobs.size) best = member
    }
    if ((!best || best.jobs.size > 0) && this.members.length < limit) return this.#spawn()
    return best
  }

  #spawn(): M | undefined {
    const used = new Set(this.members.map((m) => m.index))
    let index = 0
    while (used.has(index)) index++
    let member: M
    try {
      member = this.spawn(index)
    } catch (error) {
      // Node refused to start it (the permission model, bad options): as if it had died at start.
      this.break(startFailure(`A ${this.kind.worker} could not be started`, this.kind.pool, error), error)
      return undefined
    }
    this.members.push(member)
    return member
  }

  readonly #fnId = (spec: TaskSpec): number => {
    const key = specKey(spec)
    let id = this.#fnIds.get(key)
    if (id === undefined) this.#fnIds.set(key, (id = this.#fnIds.size))
    return id
  }

  #drain(): void {
    this.drainMessages()
    this.#runDue()
    this.#dispatch()
  }

  /** Runs `action` for `job` in `ms`: from a timer, or from a blocked wait, where timers cannot fire. */
  #after(job: Job, ms: number, action: () => void): void {
    job.wakeAt = performance.now() + ms
    job.onWake = action
    this.#timed.add(job)
    this.#arm(job, ms)
  }

  #arm(job: Job, ms: number): void {
    clearTimeout(job.timer)
    // A timer counts from the loop's cached clock, so it can fire before
    // performance.now() reaches wakeAt; then it waits the rest.
    job.timer = longTimeout(() => {
      this.#runDue()
      if (this.#timed.has(job)) this.#arm(job, Math.ceil(job.wakeAt - performance.now()))
    }, ms)?.unref()
  }

  #runDue(): void {
    const now = performance.now()
    for (const job of this.#timed) {
      if (job.wakeAt > now) continue
      this.#timed.delete(job)
      job.onWake?.()
    }
  }

  #wakeAt(): number {
    let at = Infinity
    for (const job of this.#timed) at = Math.min(at, job.wakeAt)
    return at
  }

  protected receive(member: M, message: FromWorker): void {
    if ('results' in message) {
      const { results } = message
      for (let i = 0; i < results.length; i += 3) {
        const job = member.jobs.get(results[i] as number)
        if (!job) continue
        const status = results[i + 1]
        if (status === OK) this.#finish(member, job, true, results[i + 2])
        else if (status === FAILED) this.#finish(member, job, false, job.interruptReason ?? decodeThrown(results[i + 2] as never, callerFrames(job.submitSite)))
        // Skipped: it was cancelled (or its user settled it), so its future is done. A live one is never
        // settled with nothing: it did not run, so it runs again (unreachable while slots are kept right).
        else if (job.future.done()) this.#finish(member, job, false, undefined)
        else {
          this.slots.release(job.slot) // the worker is done with it
          this.#requeue(member, [job])
        }
      }
      this.#fruitlessDeaths = 0
      if (this.#autoscale) this.#autoscale.completed += results.length / 3
      member.recordBatch(results.length / 3, message.busyMs)
      if (member.jobs.size === 0) this.#idle(member)
      this.#dispatch()
    } else if (message.event === 'started') {
      const job = member.jobs.get(message.id)
      if (job?.timeoutMs !== undefined) {
        const error = new TimeoutError(`the task ran longer than its timeoutMs (${job.timeoutMs} ms)`)
        this.#after(job, job.timeoutMs, () => this.#interrupt(job, error))
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
    member.jobs.delete(job.id)
    this.slots.release(job.slot)
    job.settle(ok, value)
  }

  /** A worker with no jobs: recycle it if it has run its quota, or let it idle out. */
  #idle(member: M): void {
    if (member.pinned.size > 0) return
    if (member.assigned >= this.#maxTasksPerWorker) return this.#retireMember(member)
    if (this.#autoscale && this.members.indexOf(member) >= this.#autoscale.target) return this.#retireMember(member)
    if (this.#idleTimeoutMs !== Infinity) {
      member.idleTimer = longTimeout(() => member.jobs.size === 0 && this.#retireMember(member), this.#idleTimeoutMs)?.unref()
    }
  }

  #retireMember(member: M): void {
    member.retiring = true
    this.members = this.members.filter((m) => m !== member)
    this.stop(member, false)
  }

  /** A worker is gone on its own; subclasses may break the pool instead of replacing it. */
  protected exited(member: M, exit: WorkerExit, cause: unknown): void {
    this.lost(member, exit, cause)
  }

  /**
   * A worker is gone, or going: the jobs it had not started go back to the
   * queue, the ones it was running fail. Until it has really stopped (for a
   * child: until its relay let go of it), it or its relay could still touch
   * its slots, so they are freed by released(), never here.
   */
  protected lost(member: M, exit: WorkerExit, cause: unknown): void {
    if (member.exited) return
    if (this.diesAtStart(member, exit)) return this.#diedAtStart(member, exit, cause)
    member.exited = true
    this.members = this.members.filter((m) => m !== member)
    for (const pin of member.pinned) {
      pin.lost = new WorkerLost(`${pin.name} is gone: the worker that held it ${describeExit(exit)}`, exit, { cause: cause ?? member.error })
    }
    const unstarted: Job[] = []
    const live = [...member.jobs.values()].filter((job) => !job.future.done())
    for (const job of member.jobs.values()) {
      member.slotsToFree.push(job.slot)
      if (job.future.done()) continue
      if (!job.steal()) job.settle(false, job.interruptReason ?? job.pin?.lost ?? this.lostError(exit, cause ?? member.error))
      else if (job.pin?.lost) job.settle(false, job.pin.lost)
      else unstarted.push(job)
    }
    member.jobs.clear()
    this.#requeue(undefined, unstarted)
    if (!member.retiring && this.#fruitless(live, exit, cause ?? member.error)) return
    this.#dispatch()
  }

  /** Puts jobs no worker started back at the head of the queue, to be given fresh slots. */
  #requeue(member: M | undefined, jobs: Job[]): void {
    for (const job of jobs) {
      member?.jobs.delete(job.id)
      job.slot = -1
    }
    this.#queue.splice(this.#head, 0, ...jobs)
  }

  // Start-up. A worker that ends before it is ready (its entry, preloads and
  // initializer done) will not do better the next time: the pool breaks, with
  // what it died of. One that ends later is replaced; but if worker after
  // worker ends with nothing settled (a task whose module exits or runs out of
  // memory as it loads), replacing them would go on forever.

  /** Workers in a row that ended holding work and settled none of it. */
  #fruitlessDeaths = 0

  /**
   * Whether this end is a death at start: before the worker was ready, not
   * stopped by the pool, and not by a signal, which comes from outside (you,
   * the OOM killer) and says nothing about the next worker.
   */
  protected diesAtStart(member: M, exit: WorkerExit): boolean {
    return !member.ready && !member.retiring && exit.signal === undefined
  }

  #diedAtStart(member: M, exit: WorkerExit, cause: unknown): void {
    member.exited = true
    const reason = cause ?? member.error ?? new WorkerLost(`the ${this.kind.worker} ${describeExit(exit)} before it was ready`, exit)
    this.break(startFailure(`A ${this.kind.worker} failed to start`, this.kind.pool, reason), reason)
  }

  /** Counts a death that settled none of the `live` jobs it held; breaks the pool (true) at MAX_FRUITLESS_DEATHS. */
  #fruitless(live: Job[], exit: WorkerExit, cause: unknown): boolean {
    if (live.length === 0) return false
    if (live.some((job) => job.future.done())) {
      this.#fruitlessDeaths = 0
      return false
    }
    if (++this.#fruitlessDeaths < MAX_FRUITLESS_DEATHS) return false
    const lost = new WorkerLost(`the last ${this.kind.worker} ${describeExit(exit)}`, exit, { cause })
    this.break(`${MAX_FRUITLESS_DEATHS} ${this.kind.worker}s in a row ended before finishing a task (the last ${describeExit(exit)}), the ${this.kind.pool} is not usable anymore`, lost)
    return true
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
    const member = this.members.find((m) => m.jobs.get(job.id) === job)
    if (!member) return
    member.interrupt(job)
    this.#after(job, this.graceMs, () => {
      member.retiring = true // stopped by the pool: not a death at start, however early
      this.stop(member, true)
      this.lost(member, {}, undefined)
    })
  }

  /** Fails every pending and running future, and refuses new ones, as Python's broken pools do. */
  protected break(message: string, cause: unknown, futureMessage = message): void {
    if (this.#broken) return
    this.#broken = this.brokenError(message, cause)
    this.#wakeRoomWaiters()
    const jobs = [...this.#queue.slice(this.#head), ...this.members.flatMap((m) => [...m.jobs.values()])]
    this.#queue = []
    this.#head = 0
    for (const member of this.members) member.jobs.clear()
    for (const job of jobs) job.settle(false, this.brokenError(futureMessage, cause))
    void this.#close()
  }

  #close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#autoscale?.stop()
      removeSource(this.#source)
      const members = this.members
      this.members = []
      for (const member of members) member.retiring = true
      await this.stopAll(members)
    })()
    return this.#closing
  }

  /** Busy pools keep the process alive, idle ones do not. */
  protected setRef(ref: boolean): void {
    for (const member of this.members) member.setRef(ref)
  }
}
