// ThreadPoolExecutor: runs tasks on worker threads.
//
// How a call travels (this file dispatches; read it with job.ts,
// pool-worker.ts and workers/thread-worker.ts):
//
//   submit(fn, ...args)
//     │  a Future and a Job; the Job joins the pool's FIFO queue
//     ▼
//   #dispatch (once per tick, or inside a blocked result())
//     │  gives each worker up to its window of Jobs (~1 ms of work), each
//     │  with a shared-memory slot, one postMessage per worker
//     ▼
//   worker thread: for each task, compareExchange its slot PENDING→RUNNING
//     │  (a lost race means it was cancelled: skip), run it, collect results
//     ▼
//   one message of results per batch (or per ms), then the doorbell rings
//     │  delivered by the event loop, or pulled by a blocked result()
//     ▼
//   #receive: settle each Future, refill the worker's window

import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { receiveMessageOnPort, type ResourceLimits } from 'node:worker_threads'
import { inspect } from 'node:util'
import { addSource, blockUntil, checkTimeout, removeSource } from '../concurrent/blocking.js'
import { BrokenThreadPool, ExecutorShutdownError, TimeoutError, WorkerLost } from '../concurrent/errors.js'
import { Future } from '../concurrent/future.js'
import { decodeThrown } from '../wire/error-codec.js'
import { CHUNK, FAILED, OK, REPORT_START, type FromWorker } from '../wire/protocol.js'
import { Executor, type ShutdownOptions, type SubmitOptions } from './executor.js'
import { Job, TaskSlots } from './job.js'
import { PoolWorker } from './pool-worker.js'
import { isTaskRef, specKey, specOf, type AnyFn, type Task, type TaskSpec } from './task.js'

export interface ThreadPoolOptions {
  /** Most threads at once (default: os.availableParallelism()). Threads start as work needs them. */
  maxWorkers?: number
  /** Workers are named `<prefix>_<index>` (see workerName() in 'concurrent-futures/worker'). */
  threadNamePrefix?: string
  /** Runs in each worker before its first task; if it throws, the pool breaks. */
  initializer?: Task<AnyFn>
  initargs?: readonly unknown[]
  /** Replace a worker after it has run this many tasks. */
  maxTasksPerWorker?: number
  /** Stop a worker that has been idle this long (default: never; idle workers never keep the process alive). */
  idleTimeoutMs?: number
  /** V8 heap limits for each worker; a worker that exceeds them is replaced and its running task fails. */
  resourceLimits?: ResourceLimits
  /** How long an interrupted task may take to stop before its worker is terminated (default 1000). */
  interruptGraceMs?: number
  /**
   * Record where each submit() was called, so a task's error shows it below
   * the worker's frames (default true). It costs a few µs per task message;
   * turn it off for floods of tiny tasks, or use map() with a chunksize.
   */
  submitStacks?: boolean
}

const MAX_JOBS_PER_WORKER = 512
let poolCounter = 0

export class ThreadPoolExecutor extends Executor {
  readonly maxWorkers: number
  readonly #prefix: string
  readonly #initializer: TaskSpec | undefined
  readonly #initargs: unknown[]
  readonly #maxTasksPerWorker: number
  readonly #idleTimeoutMs: number
  readonly #resourceLimits: ResourceLimits | undefined
  readonly #graceMs: number
  readonly #submitStacks: boolean
  readonly #slots: TaskSlots
  readonly #fnIds = new Map<string, number>()
  #workers: PoolWorker[] = []
  #queue: Job[] = []
  #head = 0
  /** Jobs submitted and not yet settled or cancelled. */
  #live = 0
  #nextId = 1
  #kickScheduled = false
  #shutdown = false
  #broken: BrokenThreadPool | undefined
  #closing: Promise<void> | undefined
  /** Jobs with a timed action pending (see Job.wakeAt). */
  readonly #timed = new Set<Job>()
  readonly #source = { drain: () => this.#drain(), busy: () => this.#live > 0, wakeAt: () => this.#wakeAt() }

  constructor(options: ThreadPoolOptions = {}) {
    super()
    this.maxWorkers = wholeNumber(options.maxWorkers, 'maxWorkers') ?? availableParallelism()
    this.#maxTasksPerWorker = wholeNumber(options.maxTasksPerWorker, 'maxTasksPerWorker') ?? Infinity
    this.#idleTimeoutMs = checkTimeout(options.idleTimeoutMs, 'idleTimeoutMs')
    this.#graceMs = options.interruptGraceMs === undefined ? 1000 : checkTimeout(options.interruptGraceMs, 'interruptGraceMs')
    this.#prefix = options.threadNamePrefix ?? `ThreadPoolExecutor-${poolCounter++}`
    if (options.initializer !== undefined && typeof options.initializer !== 'function' && !isTaskRef(options.initializer)) {
      throw new TypeError(`initializer must be a function or a TaskRef, got ${inspect(options.initializer)}`)
    }
    this.#initializer = options.initializer === undefined ? undefined : specOf(options.initializer)
    this.#initargs = [...(options.initargs ?? [])]
    this.#resourceLimits = options.resourceLimits
    this.#submitStacks = options.submitStacks ?? true
    this.#slots = new TaskSlots(this.maxWorkers * MAX_JOBS_PER_WORKER * 2)
    addSource(this.#source)
  }

  override shutdown({ wait = true, cancelFutures = false }: ShutdownOptions = {}): Promise<void> {
    this.#shutdown = true
    if (cancelFutures) {
      for (const job of this.#queue.slice(this.#head)) job.future.cancel()
      for (const worker of this.#workers) for (const job of worker.jobs.values()) job.future.cancel()
    }
    this.#drained ??= this.#live === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#onDrained = resolve))
    const closed = this.#drained.then(() => this.#close())
    return wait ? closed : Promise.resolve()
  }

  override [Symbol.dispose](): void {
    void this.shutdown()
    blockUntil(() => this.#live === 0, Infinity, () => 'disposing the ThreadPoolExecutor')
  }

  protected override schedule(fn: Task<AnyFn>, args: unknown[], options: SubmitOptions, chunk: boolean): Future<unknown> {
    if (this.#broken) throw new BrokenThreadPool(this.#broken.message, { cause: this.#broken.cause })
    if (this.#shutdown) throw new ExecutorShutdownError('cannot schedule new futures after shutdown')
    const { signal, transfer = [] } = options
    const timeoutMs = options.timeoutMs === undefined ? undefined : checkTimeout(options.timeoutMs, 'timeoutMs')
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`signal must be an AbortSignal, got ${inspect(signal)}`)
    const spec = specOf(fn)
    const future = new Future<unknown>()
    const flags = (chunk ? CHUNK : 0) | (timeoutMs === undefined ? 0 : REPORT_START)
    const job = new Job(this.#nextId++, future, spec, args, flags, transfer, this.#submitStacks ? submitSite() : noSite, timeoutMs, this.#slots, this.#retire)
    if (this.#live++ === 0) this.#setRef(true)
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

  /** Settles once the pool, shut down, has no more work. */
  #drained: Promise<void> | undefined
  #onDrained: (() => void) | undefined

  readonly #retire = (job: Job): void => {
    this.#timed.delete(job)
    clearTimeout(job.timer)
    if (--this.#live > 0) return
    this.#setRef(false)
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
      const worker = this.#pickWorker()
      if (!worker) break
      this.#head++
      job.slot = this.#slots.take()
      worker.assign(job)
    }
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    }
    for (const worker of this.#workers) {
      for (const [job, error] of worker.flush(this.#fnId)) this.#finish(worker, job, false, error)
    }
  }

  /** The least loaded worker with room; a new one while there is no idle worker and room for more. */
  #pickWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined
    for (const worker of this.#workers) {
      if (worker.retiring || worker.jobs.size >= worker.window || worker.assigned >= this.#maxTasksPerWorker) continue
      if (!best || worker.jobs.size < best.jobs.size) best = worker
    }
    if ((!best || best.jobs.size > 0) && this.#workers.length < this.maxWorkers) return this.#spawn()
    return best
  }

  #spawn(): PoolWorker {
    const used = new Set(this.#workers.map((w) => w.index))
    let index = 0
    while (used.has(index)) index++
    const worker = new PoolWorker(index, {
      name: `${this.#prefix}_${index}`,
      slots: this.#slots,
      resourceLimits: this.#resourceLimits,
      initializer: this.#initializer,
      initargs: this.#initargs,
    })
    worker.port.on('message', (message: FromWorker) => this.#receive(worker, message))
    worker.thread.on('exit', (code) => {
      this.#drainWorker(worker)
      this.#lost(worker, code, undefined)
      for (const slot of worker.slotsToFree.splice(0)) this.#slots.release(slot)
    })
    this.#workers.push(worker)
    return worker
  }

  readonly #fnId = (spec: TaskSpec): number => {
    const key = specKey(spec)
    let id = this.#fnIds.get(key)
    if (id === undefined) this.#fnIds.set(key, (id = this.#fnIds.size))
    return id
  }

  #drain(): void {
    for (const worker of [...this.#workers]) this.#drainWorker(worker)
    this.#runDue()
    this.#dispatch()
  }

  /** Runs `action` for `job` in `ms`: from a timer, or from a blocked wait, where timers cannot fire. */
  #after(job: Job, ms: number, action: () => void): void {
    job.wakeAt = performance.now() + ms
    job.onWake = action
    this.#timed.add(job)
    clearTimeout(job.timer)
    job.timer = setTimeout(() => this.#runDue(), ms).unref()
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

  #drainWorker(worker: PoolWorker): void {
    for (let m = receiveMessageOnPort(worker.port); m; m = receiveMessageOnPort(worker.port)) {
      this.#receive(worker, m.message as FromWorker)
    }
  }

  #receive(worker: PoolWorker, message: FromWorker): void {
    if ('results' in message) {
      const { results } = message
      for (let i = 0; i < results.length; i += 3) {
        const job = worker.jobs.get(results[i] as number)
        if (!job) continue
        const status = results[i + 1]
        if (status === OK) this.#finish(worker, job, true, results[i + 2])
        else if (status === FAILED) this.#finish(worker, job, false, job.interruptReason ?? decodeThrown(results[i + 2] as never, callerFrames(job.submitSite)))
        else this.#finish(worker, job, false, undefined) // skipped: it was cancelled, its future is done
      }
      worker.recordBatch(results.length / 3, message.busyMs)
      if (worker.jobs.size === 0) this.#idle(worker)
      this.#dispatch()
    } else if (message.event === 'started') {
      const job = worker.jobs.get(message.id)
      if (job?.timeoutMs !== undefined) {
        const error = new TimeoutError(`the task ran longer than its timeoutMs (${job.timeoutMs} ms)`)
        this.#after(job, job.timeoutMs, () => this.#interrupt(job, error))
      }
    } else if (message.event === 'init-failed') {
      this.#break('A thread initializer failed, the thread pool is not usable anymore', decodeThrown(message.error))
    } else {
      this.#lost(worker, message.code, message.error && decodeThrown(message.error))
    }
  }

  #finish(worker: PoolWorker, job: Job, ok: boolean, value: unknown): void {
    worker.jobs.delete(job.id)
    this.#slots.release(job.slot)
    job.settle(ok, value)
  }

  /** A worker with no jobs: recycle it if it has run its quota, or let it idle out. */
  #idle(worker: PoolWorker): void {
    if (worker.assigned >= this.#maxTasksPerWorker) return this.#stop(worker)
    if (this.#idleTimeoutMs !== Infinity) {
      worker.idleTimer = setTimeout(() => worker.jobs.size === 0 && this.#stop(worker), this.#idleTimeoutMs).unref()
    }
  }

  #stop(worker: PoolWorker): void {
    worker.retiring = true
    this.#workers = this.#workers.filter((w) => w !== worker)
    void worker.thread.terminate()
  }

  /**
   * A worker is gone, or going: the jobs it had not started go back to the
   * queue, the one it was running fails. Until it has really exited
   * (`terminating`), it could still touch its slots, so they are freed later.
   */
  #lost(worker: PoolWorker, code: number | undefined, error: unknown, terminating = false): void {
    if (worker.exited) return
    worker.exited = true
    this.#workers = this.#workers.filter((w) => w !== worker)
    const unstarted: Job[] = []
    for (const job of worker.jobs.values()) {
      if (terminating) worker.slotsToFree.push(job.slot)
      else this.#slots.release(job.slot)
      if (job.future.done()) continue
      if (job.steal()) {
        job.slot = -1
        unstarted.push(job)
      } else {
        const how = code === undefined ? 'was terminated' : `exited with code ${code}`
        job.settle(false, job.interruptReason ?? new WorkerLost(
          `the worker thread running this task ${how}; the pool replaced it`,
          code,
          { cause: error ?? worker.error },
        ))
      }
    }
    worker.jobs.clear()
    this.#queue.splice(this.#head, 0, ...unstarted)
    this.#dispatch()
  }

  /** Cancels `job` if it has not started; otherwise asks it to stop, and terminates its worker after the grace period. */
  #interrupt(job: Job, reason: unknown): void {
    if (job.future.cancel() || !job.markInterrupted(reason)) return
    const worker = this.#workers.find((w) => w.jobs.get(job.id) === job)
    if (!worker) return
    worker.interrupt(job)
    this.#after(job, this.#graceMs, () => {
      void worker.thread.terminate()
      this.#lost(worker, undefined, undefined, true)
    })
  }

  #break(message: string, cause: unknown): void {
    if (this.#broken) return
    this.#broken = new BrokenThreadPool(message, { cause })
    const jobs = [...this.#queue.slice(this.#head), ...this.#workers.flatMap((w) => [...w.jobs.values()])]
    this.#queue = []
    this.#head = 0
    for (const worker of this.#workers) worker.jobs.clear()
    for (const job of jobs) job.settle(false, new BrokenThreadPool(message, { cause }))
    void this.#close()
  }

  #close(): Promise<void> {
    this.#closing ??= (async () => {
      removeSource(this.#source)
      const workers = this.#workers
      this.#workers = []
      for (const worker of workers) worker.retiring = true
      await Promise.all(workers.map((w) => w.thread.terminate()))
    })()
    return this.#closing
  }

  #setRef(ref: boolean): void {
    for (const worker of this.#workers) worker.setRef(ref)
  }
}

function wholeNumber(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer greater than 0, got ${inspect(value)}`)
  return value
}

const ownFrames = fileURLToPath(new URL('../', import.meta.url))

/**
 * Captures where submit() was called, so a task's error can show it. V8
 * formats the frames only if `.stack` is read, which callerFrames() does when
 * the task fails.
 */
const noSite = {}
function submitSite(): { stack?: string } {
  const site = {}
  Error.captureStackTrace(site)
  return site
}

function callerFrames(site: { stack?: string }): string | undefined {
  return site.stack?.split('\n').filter((line) => !line.includes(ownFrames)).join('\n')
}
