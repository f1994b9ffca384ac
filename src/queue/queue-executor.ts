// QueueExecutor: the Executor API over a BullMQ queue on Redis, so work fans
// out to `concurrent-futures worker` processes on any number of machines.
//
// How a call travels (read with workers/queue-relay.ts and serve.ts):
//
//   submit(tasks.fib, 30)
//     │  a Future, registered under a job id made here; the job joins this
//     │  tick's batch
//     ▼
//   relay thread (workers/queue-relay.ts): queue.addBulk ──▶ Redis
//     ▼
//   worker process (serve.ts): the BullMQ Worker takes the job, finds the
//     │  task by name among the ones it registered, runs it on its local
//     │  thread or process pool, and returns the result (or throws)
//     ▼
//   Redis event stream: active / completed / failed
//     ▼
//   relay thread: reads the stream (and, for missed events, the job's record)
//     │  posts them on a port and rings the doorbell
//     ▼
//   here: settle the Future (from the event loop, or inside a blocked result())

import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { addSource, doorbellBuffer, removeSource } from '../concurrent/blocking.js'
import { BrokenExecutor, CancelledError, JobLost, QueueUnavailable, WorkerLost } from '../concurrent/errors.js'
import { Future } from '../concurrent/future.js'
import { checkOptions, integer, MAX_TIMER_MS, milliseconds, nested, positiveInteger, show, string, type Check, type Schema } from '../concurrent/validate.js'
import { Executor, notForgotten, submitSchema, type ShutdownOptions, type SubmitOptions } from '../executors/executor.js'
import { followSignal, Lifecycle, setRefs } from '../executors/lifecycle.js'
import { isTaskRef, type AnyFn, type ArgsOf, type ProgressOf, type ResultOf, type Task } from '../executors/task.js'
import { callerFrames, submitSite } from '../executors/submit-site.js'
import { decodeThrown } from '../wire/error-codec.js'
import { checkJson } from './json.js'
import {
  Link, Shared, STALLED_REASON,
  type Backoff, type Connection, type FromRelay, type JobEvent, type JobOptions, type KeepJobs, type NewJob, type RelayData, type RemoteError, type ToRelay,
} from './protocol.js'

/** Options of QueueExecutor: the Redis connection, the queue, retries and timeouts. */
export interface QueueExecutorOptions {
  /** Where Redis is: ioredis connection options, or a redis:// URL. */
  connection: Connection
  /** The BullMQ queue; the workers must serve the same name. */
  queue: string
  /** BullMQ's key prefix (default 'bull'). */
  prefix?: string
  /** Runs of a task before its future fails, counting the first (default 1: no retry). */
  attempts?: number
  /** Wait between attempts: ms, or BullMQ's { type: 'fixed' | 'exponential', delay }. */
  backoff?: Backoff
  /** Interrupt a task once it has run this long (per attempt); submitWith() can set it per task. */
  timeoutMs?: number
  /** How long Redis keeps a completed job (default { age: 3600 } seconds). */
  removeOnComplete?: KeepJobs
  /** How long Redis keeps a failed job (default { age: 86400 } seconds). */
  removeOnFail?: KeepJobs
  /** At most this many jobs of the queue run at once, over all workers. */
  globalConcurrency?: number
  /** Read the state of a job whose event has not come for this long (default 5000 ms). */
  reconcileMs?: number
  /**
   * Jobs of this client run only while it is alive: it renews a lease key in Redis, and a worker about to
   * start one of its jobs fails it instead once the client has been gone this long (default: no lease, a
   * gone client's jobs still run).
   */
  leaseMs?: number
}

/** Per-task options of QueueExecutor's `submitWith()`: retries, backoff, timeout, signal, priority, a progress callback. */
export interface QueueSubmitOptions<P = unknown> extends Omit<SubmitOptions<P>, 'transfer'> {
  attempts?: number
  backoff?: Backoff
}

const relayEntry = new URL('../../workers/queue-relay.js', import.meta.url)
/** How long cancel() waits for Redis to say whether the job was removed. */
const CANCEL_WAIT_MS = 10_000

export const backoffCheck: Check<Backoff> = (value, name) => {
  const delayOk = (delay: unknown): boolean => typeof delay === 'number' && Number.isFinite(delay) && delay >= 0
  const isObject = typeof value === 'object' && value !== null
  const jitter = isObject ? (value as { jitter?: unknown }).jitter : undefined
  const ok = delayOk(value) || (isObject && ['fixed', 'exponential'].includes((value as { type?: unknown }).type as string) && delayOk((value as { delay?: unknown }).delay) &&
    (jitter === undefined || (typeof jitter === 'number' && jitter >= 0 && jitter <= 1)))
  if (!ok) throw new TypeError(`${name} must be milliseconds >= 0 or { type: 'fixed' | 'exponential', delay, jitter? }, got ${show(value)}`)
  return value as Backoff
}

const count = integer(0)
const keepJobs: Check<KeepJobs> = (value, name) => {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return count(value, name)
  if (typeof value === 'object' && value !== null) return nested<{ age?: number; count?: number }>({ age: count, count })(value, name)
  throw new TypeError(`${name} must be true, false, a number of jobs or { age?: seconds, count? }, got ${show(value)}`)
}

export const queueName: Check<string> = (value, name) => {
  if (typeof value !== 'string' || value === '' || value.includes(':')) throw new TypeError(`${name} must be a non-empty name without ':', got ${show(value)}`)
  return value
}

export const connectionCheck: Check<Connection> = (value, name) => {
  checkConnection(value, name)
  return value
}

const queueSchema: Schema<QueueExecutorOptions> = {
  connection: connectionCheck,
  queue: queueName,
  prefix: string,
  attempts: positiveInteger,
  backoff: backoffCheck,
  timeoutMs: submitSchema.timeoutMs,
  removeOnComplete: keepJobs,
  removeOnFail: keepJobs,
  globalConcurrency: positiveInteger,
  // The relay polls at a quarter of it with setInterval, which cannot wait longer.
  reconcileMs: integer(1, MAX_TIMER_MS, 'the longest timer'),
  // Renewed at a third of it: shorter would be renewed faster than a busy Redis may answer.
  leaseMs: integer(300, MAX_TIMER_MS, 'the longest timer'),
}

const queueSubmitSchema: Schema<QueueSubmitOptions> = {
  signal: submitSchema.signal,
  // Infinity kept: it overrides the executor's timeoutMs, and is left out of the job (JSON has no Infinity).
  timeoutMs: milliseconds,
  attempts: positiveInteger,
  backoff: backoffCheck,
  priority: submitSchema.priority,
  onProgress: submitSchema.onProgress,
}

const notForQueues = {
  transfer: 'a QueueExecutor cannot transfer objects: values cross Redis as JSON',
  maxWorkers: "a QueueExecutor's workers are the `concurrent-futures worker` processes serving its queue; give them --concurrency",
}

interface Entry {
  future: Future<unknown>
  /** For a chunk (map with a chunksize), how many results it brings. */
  chunkLength?: number
  /** Why the submitter interrupted the running task; the future fails with it. */
  interruptReason?: unknown
  submitSite: { stack?: string }
}

/**
 * Sends each task through a BullMQ queue on Redis to `concurrent-futures worker` processes, with the same Futures.
 *
 * @example
 * await using pool = new QueueExecutor({ connection: 'redis://localhost:6379', queue: 'fib' })
 * const n = await pool.submit(tasks.fib, 30)
 */
export class QueueExecutor extends Executor {
  readonly queue: string
  readonly #client = randomUUID()
  readonly #idPrefix = `${this.#client}-`
  readonly #lease: string | undefined
  #nextId = 0
  readonly #jobOptions: JobOptions
  readonly #timeoutMs: number | undefined
  readonly #entries = new Map<string, Entry>()
  #batch: NewJob[] = []
  readonly #shared = new Int32Array(new SharedArrayBuffer(Shared.WORDS * 4))
  #ticket = 0
  readonly #thread: Worker
  readonly #port: MessagePort
  readonly #life = new Lifecycle({ setRef: (ref) => this.#setRef(ref), close: () => this.#close() })
  readonly #source = { drain: () => this.#drain(), busy: () => this.#life.live > 0, wakeAt: () => Infinity }

  constructor(options: QueueExecutorOptions) {
    super()
    const checked = checkOptions(options, queueSchema, 'QueueExecutor', notForQueues)
    const { connection, queue, prefix } = checked
    if (connection === undefined) throw new TypeError('QueueExecutor option connection is required: a redis:// URL or ioredis options ({ host, port, ... })')
    if (queue === undefined) throw new TypeError('QueueExecutor option queue is required: the name of the BullMQ queue its workers serve')
    this.queue = queue
    this.#timeoutMs = checked.timeoutMs
    this.#jobOptions = {
      ...jobOptions(checked),
      removeOnComplete: checked.removeOnComplete ?? { age: 3600 },
      removeOnFail: checked.removeOnFail ?? { age: 86_400 },
    }
    const { port1, port2 } = new MessageChannel()
    const data: RelayData = {
      port: port2,
      doorbell: doorbellBuffer,
      shared: this.#shared.buffer as SharedArrayBuffer,
      connection,
      queue,
      prefix,
      globalConcurrency: checked.globalConcurrency,
      reconcileMs: checked.reconcileMs ?? 5000,
      lease: checked.leaseMs === undefined ? undefined : { client: this.#client, ms: checked.leaseMs },
    }
    this.#lease = checked.leaseMs === undefined ? undefined : this.#client
    this.#thread = new Worker(fileURLToPath(relayEntry), { workerData: data, transferList: [port2], name: `QueueExecutor ${queue}` })
    this.#port = port1
    this.#port.on('message', (message: FromRelay) => this.#receive(message))
    this.#thread.on('error', (error) => this.#break(error))
    this.#thread.on('exit', (code) => this.#break(new Error(`the relay thread exited with code ${code}`)))
    this.#setRef(false)
    addSource(this.#source)
  }

  override submitWith<F extends AnyFn>(options: QueueSubmitOptions<ProgressOf<F>>, fn: Task<F>, ...args: ArgsOf<F>): Future<ResultOf<F>, ProgressOf<F>> {
    return super.submitWith(options, fn, ...args)
  }

  /** @internal Checks what submitWith() was given, before runInExecutorWith() waits for room. */
  override checkSubmitOptions(options: unknown): QueueSubmitOptions {
    return checkOptions(notForgotten(options), queueSubmitSchema, 'QueueExecutor submitWith()', notForQueues)
  }

  override shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#life.shutdown(options, (cancelFutures) => {
      if (!cancelFutures) return
      this.#flush()
      const waiting = [...this.#entries].filter(([, entry]) => entry.future.state === 'PENDING').map(([id]) => id)
      if (waiting.length > 0) this.#post({ remove: waiting })
    })
  }

  override [Symbol.dispose](): void {
    void this.shutdown()
    this.#life.waitDrained(`the QueueExecutor of queue ${this.queue}`)
  }

  /** Refused: see the error. */
  protected override scheduleStream(): never {
    throw new TypeError(
      'a QueueExecutor cannot stream: its values cross Redis as one JSON result per job, with no channel back to the caller while the job runs. ' +
        'Run generator tasks with stream() on a ThreadPoolExecutor or ProcessPoolExecutor, or split the work into jobs whose results you consume with asCompleted()',
    )
  }

  protected override schedule(fn: Task<AnyFn>, args: unknown[], options: QueueSubmitOptions & SubmitOptions, chunk: boolean): Future<unknown> {
    this.#life.checkOpen()
    if (!isTaskRef(fn)) {
      throw new TypeError(
        'a QueueExecutor runs only tasks its workers registered by name: submit fromModule<typeof import(\'./tasks.js\')>(url).name, ' +
          'and start workers with `concurrent-futures worker --tasks ./tasks.js`. A function\'s source is never sent through Redis, ' +
          'since anyone who can write to the queue could then run code on every worker',
      )
    }
    const { signal } = options // checked by submitWith()
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const opts = { ...this.#jobOptions, ...jobOptions(options) }
    if (Atomics.load(this.#shared, Shared.STATUS) === Link.DOWN) {
      throw new QueueUnavailable(
        `Redis is unreachable, so the task was not queued on ${this.queue}. Futures already submitted keep waiting, and the executor reconnects by itself: try again later`,
      )
    }
    const future = new Future<unknown>()
    try {
      checkJson(args, chunk ? 'the argument lists' : 'the arguments')
    } catch (error) {
      future.setException(error)
      return future
    }
    const id = this.#idPrefix + this.#nextId++
    const entry: Entry = { future, submitSite: submitSite(), ...(chunk ? { chunkLength: args.length } : {}) }
    this.#life.started()
    this.#entries.set(id, entry)
    future.bindClaim({ running: () => false, tryCancel: () => this.#cancel(id) })
    future.watch(() => this.#retire(id))
    if (this.#batch.length === 0) queueMicrotask(() => this.#flush())
    this.#batch.push({ id, name: fn.exportName, data: { args, ...(chunk ? { chunk: true } : {}), ...(this.#lease ? { lease: this.#lease } : {}), ...(timeoutMs === undefined || timeoutMs === Infinity ? {} : { timeoutMs }) }, opts })
    if (signal) followSignal(future, signal, (reason) => this.#interrupt(id, entry, reason))
    return future
  }

  #flush(): void {
    if (this.#batch.length === 0) return
    this.#post({ add: this.#batch })
    this.#batch = []
  }

  #post(message: ToRelay): void {
    this.#port.postMessage(message)
  }

  /** Removes the job if it has not started; blocks this thread while the relay asks Redis (two round trips). */
  #cancel(id: string): boolean {
    const unsent = this.#batch.findIndex((job) => job.id === id)
    if (unsent >= 0) {
      this.#batch.splice(unsent, 1)
      return true
    }
    const ticket = ++this.#ticket
    this.#post({ cancel: id, ticket })
    const deadline = performance.now() + CANCEL_WAIT_MS
    for (let seen = Atomics.load(this.#shared, Shared.TICKET); seen !== ticket; seen = Atomics.load(this.#shared, Shared.TICKET)) {
      const left = deadline - performance.now()
      if (left <= 0) return false
      Atomics.wait(this.#shared, Shared.TICKET, seen, left)
    }
    return Atomics.load(this.#shared, Shared.ANSWER) === 1
  }

  #interrupt(id: string, entry: Entry, reason: unknown): void {
    if (entry.future.cancel() || entry.interruptReason !== undefined) return
    entry.interruptReason = reason ?? new CancelledError('interrupted')
    this.#post({ interrupt: id, reason: String(reason instanceof Error ? reason.message : reason) })
  }

  #retire(id: string): void {
    this.#entries.delete(id)
    this.#life.finished()
  }

  /** Sends this tick's jobs (a blocked wait stops the microtask that would) and takes in the relay's events. */
  #drain(): void {
    this.#flush()
    for (let message; (message = receiveMessageOnPort(this.#port)); ) this.#receive(message.message as FromRelay)
  }

  #receive({ events }: FromRelay): void {
    for (const event of events) {
      const entry = this.#entries.get(event.id)
      if (entry && !entry.future.done()) this.#apply(event.id, entry, event)
    }
  }

  #apply(id: string, { future, interruptReason, submitSite, chunkLength }: Entry, event: JobEvent): void {
    switch (event.event) {
      case 'active':
        if (future.state === 'PENDING') future.setRunningOrNotifyCancel()
        return
      case 'progress':
        return future.deliverProgress(event.value)
      case 'completed': {
        const value = event.result?.v
        return future.setResult(chunkLength === undefined ? value : Array.from({ length: chunkLength }, (_, i) => (value as Record<number, unknown>)[i]))
      }
      case 'failed':
        return future.setException(interruptReason ?? remoteError(event.error, submitSite))
      case 'cancelled':
        future.bindClaim(undefined)
        future.cancel()
        return
      case 'lost':
        return future.setException(new JobLost(`the job ${id} of queue ${this.queue} is lost: ${event.reason}`, { jobId: id, started: future.running() }))
      case 'unqueued':
        return future.setException(new QueueUnavailable(`the task was not queued on ${this.queue}: ${event.reason}`))
    }
  }

  /** The relay thread is gone: nothing can settle the futures any more. */
  #break(cause: Error): void {
    if (this.#life.closing) return
    const broken = new BrokenExecutor(`the QueueExecutor of queue ${this.queue} lost its relay thread, so it can run nothing more`, { cause })
    if (!this.#life.break(broken)) return
    for (const { future } of [...this.#entries.values()]) if (!future.done()) future.setException(broken)
    void this.#life.close()
  }

  async #close(): Promise<void> {
    removeSource(this.#source)
    const exited = new Promise<void>((resolve) => this.#thread.once('exit', () => resolve()))
    this.#post({ close: true })
    // BullMQ's close() can wait forever for an unreachable Redis (bullmq#4656).
    const timer = setTimeout(() => void this.#thread.terminate(), 5000)
    await exited
    clearTimeout(timer)
    this.#port.close()
  }

  /** Busy executors keep the process alive, idle ones do not. */
  #setRef(ref: boolean): void {
    setRefs(ref, this.#thread, this.#port)
  }
}

/**
 * The BullMQ job options among checked options. A priority maps as it is: BullMQ also starts lower ones
 * first, and runs a job without one (0) before any prioritized job, as 0 is the first here. So 0 is left out.
 */
function jobOptions({ attempts, backoff, priority }: { attempts?: number; backoff?: Backoff; priority?: number }): JobOptions {
  return { ...(attempts === undefined ? {} : { attempts }), ...(backoff === undefined ? {} : { backoff }), ...(priority ? { priority } : {}) }
}

function checkConnection(connection: unknown, name: string): asserts connection is Connection {
  if (typeof connection === 'string' && /^rediss?:\/\//.test(connection)) return
  const isOptions = typeof connection === 'object' && connection !== null && Object.getPrototypeOf(connection) === Object.prototype
  if (!isOptions) {
    throw new TypeError(
      `${name} must be ioredis options ({ host, port, ... }) or a redis:// URL, got ${show(connection)}: ` +
        'a client object cannot be shared with the thread that talks to Redis',
    )
  }
  try {
    structuredClone(connection)
  } catch {
    throw new TypeError(`${name} must be plain data (no functions): it is sent to the thread that talks to Redis`)
  }
}

/** The task's error as the worker reported it, with the frames of the submit() call below the remote ones. */
function remoteError({ failedReason, thrown }: RemoteError, site: { stack?: string }): unknown {
  if (!thrown) {
    if (failedReason !== STALLED_REASON) return new Error(failedReason)
    return new WorkerLost(
      'the task was lost: the workers running it stopped renewing its lock (died, or lost Redis) more often than their stall limit allows',
      {},
    )
  }
  return decodeThrown(thrown, callerFrames(site))
}
