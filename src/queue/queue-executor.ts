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
//   Redis event stream: active / completed / failed / removed
//     ▼
//   relay thread: QueueEvents (and, for missed events, the job's state)
//     │  posts them on a port and rings the doorbell
//     ▼
//   here: settle the Future (from the event loop, or inside a blocked result())

import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { addSource, blockUntil, checkTimeout, doorbellBuffer, removeSource } from '../concurrent/blocking.js'
import { BrokenExecutor, CancelledError, ExecutorShutdownError, QueueUnavailable, WorkerLost } from '../concurrent/errors.js'
import { Future } from '../concurrent/future.js'
import { Executor, type ShutdownOptions, type SubmitOptions } from '../executors/executor.js'
import { positiveInteger } from '../executors/options.js'
import { isTaskRef, type AnyFn, type ArgsOf, type ResultOf, type Task } from '../executors/task.js'
import { callerFrames, submitSite } from '../executors/submit-site.js'
import { decodeThrown } from '../wire/error-codec.js'
import { checkJson } from './json.js'
import {
  ANSWER, DOWN, SHARED_WORDS, STALLED_REASON, STATUS, TICKET,
  type Backoff, type Connection, type FromRelay, type JobEvent, type JobOptions, type KeepJobs, type NewJob, type RelayData, type RemoteError, type ToRelay,
} from './protocol.js'

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
}

export interface QueueSubmitOptions extends Omit<SubmitOptions, 'transfer'> {
  attempts?: number
  backoff?: Backoff
}

const relayEntry = new URL('../../workers/queue-relay.js', import.meta.url)
/** How long cancel() waits for Redis to say whether the job was removed. */
const CANCEL_WAIT_MS = 10_000

interface Entry {
  future: Future<unknown>
  /** For a chunk (map with a chunksize), how many results it brings. */
  chunkLength?: number
  /** Why the submitter interrupted the running task; the future fails with it. */
  interruptReason?: unknown
  submitSite: { stack?: string }
}

export class QueueExecutor extends Executor {
  readonly queue: string
  readonly #idPrefix = `${randomUUID()}-`
  #nextId = 0
  readonly #jobOptions: JobOptions
  readonly #timeoutMs: number | undefined
  readonly #entries = new Map<string, Entry>()
  #batch: NewJob[] = []
  readonly #shared = new Int32Array(new SharedArrayBuffer(SHARED_WORDS * 4))
  #ticket = 0
  readonly #thread: Worker
  readonly #port: MessagePort
  #broken: BrokenExecutor | undefined
  #shutdown = false
  #closing: Promise<void> | undefined
  #drained: Promise<void> | undefined
  #onDrained: (() => void) | undefined
  readonly #source = { drain: () => this.#drain(), busy: () => this.#entries.size > 0, wakeAt: () => Infinity }

  constructor(options: QueueExecutorOptions) {
    super()
    const { connection, queue, prefix } = options ?? {}
    if (typeof queue !== 'string' || queue === '' || queue.includes(':')) {
      throw new TypeError(`queue must be a non-empty name without ':', got ${inspect(queue)}`)
    }
    checkConnection(connection)
    this.queue = queue
    this.#timeoutMs = options.timeoutMs === undefined ? undefined : checkTimeout(options.timeoutMs, 'timeoutMs')
    this.#jobOptions = {
      ...jobOptions(options),
      removeOnComplete: options.removeOnComplete ?? { age: 3600 },
      removeOnFail: options.removeOnFail ?? { age: 86_400 },
    }
    const { port1, port2 } = new MessageChannel()
    const data: RelayData = {
      port: port2,
      doorbell: doorbellBuffer,
      shared: this.#shared.buffer as SharedArrayBuffer,
      connection,
      queue,
      prefix,
      globalConcurrency: positiveInteger(options.globalConcurrency, 'globalConcurrency'),
      reconcileMs: positiveInteger(options.reconcileMs, 'reconcileMs') ?? 5000,
    }
    this.#thread = new Worker(fileURLToPath(relayEntry), { workerData: data, transferList: [port2], name: `QueueExecutor ${queue}` })
    this.#port = port1
    this.#port.on('message', (message: FromRelay) => this.#receive(message))
    this.#thread.on('error', (error) => this.#break(error))
    this.#thread.on('exit', (code) => this.#break(new Error(`the relay thread exited with code ${code}`)))
    this.#setRef(false)
    addSource(this.#source)
  }

  override submitWith<F extends AnyFn>(options: QueueSubmitOptions, fn: Task<F>, ...args: ArgsOf<F>): Future<ResultOf<F>> {
    return this.schedule(fn, args, options, false) as Future<ResultOf<F>>
  }

  override shutdown({ wait = true, cancelFutures = false }: ShutdownOptions = {}): Promise<void> {
    this.#shutdown = true
    if (cancelFutures) {
      this.#flush()
      const waiting = [...this.#entries].filter(([, entry]) => entry.future.state === 'PENDING').map(([id]) => id)
      if (waiting.length > 0) this.#post({ remove: waiting })
    }
    this.#drained ??= this.#entries.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#onDrained = resolve))
    const closed = this.#drained.then(() => this.#close())
    return wait ? closed : Promise.resolve()
  }

  override [Symbol.dispose](): void {
    void this.shutdown()
    blockUntil(() => this.#entries.size === 0, Infinity, () => `disposing the QueueExecutor of queue ${this.queue}`)
  }

  protected override schedule(fn: Task<AnyFn>, args: unknown[], options: QueueSubmitOptions & SubmitOptions, chunk: boolean): Future<unknown> {
    if (this.#broken) throw this.#broken
    if (this.#shutdown) throw new ExecutorShutdownError('cannot schedule new futures after shutdown')
    if (!isTaskRef(fn)) {
      throw new TypeError(
        'a QueueExecutor runs only tasks its workers registered by name: submit fromModule<typeof import(\'./tasks.js\')>(url).name, ' +
          'and start workers with `concurrent-futures worker --tasks ./tasks.js`. A function\'s source is never sent through Redis, ' +
          'since anyone who can write to the queue could then run code on every worker',
      )
    }
    if (options.transfer !== undefined) throw new TypeError('a QueueExecutor cannot transfer objects: values cross Redis as JSON')
    const { signal } = options
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`signal must be an AbortSignal, got ${inspect(signal)}`)
    const timeoutMs = options.timeoutMs === undefined ? this.#timeoutMs : checkTimeout(options.timeoutMs, 'timeoutMs')
    const opts = { ...this.#jobOptions, ...jobOptions(options) }
    if (Atomics.load(this.#shared, STATUS) === DOWN) {
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
    if (this.#entries.size === 0) this.#setRef(true)
    this.#entries.set(id, entry)
    future.bindClaim({ running: () => false, tryCancel: () => this.#cancel(id) })
    future.watch(() => this.#retire(id))
    if (this.#batch.length === 0) queueMicrotask(() => this.#flush())
    this.#batch.push({ id, name: fn.exportName, data: { args, ...(chunk ? { chunk: true } : {}), ...(timeoutMs === undefined ? {} : { timeoutMs }) }, opts })
    if (signal?.aborted) future.cancel()
    else if (signal) {
      const onAbort = (): void => this.#interrupt(id, entry, signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      future.watch(() => signal.removeEventListener('abort', onAbort))
    }
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
    for (let seen = Atomics.load(this.#shared, TICKET); seen !== ticket; seen = Atomics.load(this.#shared, TICKET)) {
      const left = deadline - performance.now()
      if (left <= 0) return false
      Atomics.wait(this.#shared, TICKET, seen, left)
    }
    return Atomics.load(this.#shared, ANSWER) === 1
  }

  #interrupt(id: string, entry: Entry, reason: unknown): void {
    if (entry.future.cancel() || entry.interruptReason !== undefined) return
    entry.interruptReason = reason ?? new CancelledError('interrupted')
    this.#post({ interrupt: id, reason: String(reason instanceof Error ? reason.message : reason) })
  }

  #retire(id: string): void {
    this.#entries.delete(id)
    if (this.#entries.size > 0) return
    this.#setRef(false)
    this.#onDrained?.()
  }

  /** Sends this tick's jobs (a blocked wait stops the microtask that would) and takes in the relay's events. */
  #drain(): void {
    this.#flush()
    for (let message; (message = receiveMessageOnPort(this.#port)); ) this.#receive(message.message as FromRelay)
  }

  #receive({ events }: FromRelay): void {
    for (const event of events) {
      const entry = this.#entries.get(event.id)
      if (entry && !entry.future.done()) this.#apply(entry, event)
    }
  }

  #apply({ future, interruptReason, submitSite, chunkLength }: Entry, event: JobEvent): void {
    switch (event.event) {
      case 'active':
        if (future.state === 'PENDING') future.setRunningOrNotifyCancel()
        return
      case 'completed': {
        const value = event.result?.v
        return future.setResult(chunkLength === undefined ? value : Array.from({ length: chunkLength }, (_, i) => (value as Record<number, unknown>)[i]))
      }
      case 'failed':
        return future.setException(interruptReason ?? remoteError(event.error, submitSite))
      case 'removed':
        future.bindClaim(undefined)
        if (!future.cancel()) future.setException(new CancelledError('the job was removed from the queue after it started'))
        return
      case 'unqueued':
        return future.setException(new QueueUnavailable(`the task was not queued on ${this.queue}: ${event.reason}`))
    }
  }

  /** The relay thread is gone: nothing can settle the futures any more. */
  #break(cause: Error): void {
    if (this.#broken || this.#closing) return
    this.#broken = new BrokenExecutor(`the QueueExecutor of queue ${this.queue} lost its relay thread, so it can run nothing more`, { cause })
    for (const { future } of [...this.#entries.values()]) if (!future.done()) future.setException(this.#broken)
    void this.#close()
  }

  #close(): Promise<void> {
    this.#closing ??= (async () => {
      removeSource(this.#source)
      const exited = new Promise<void>((resolve) => this.#thread.once('exit', () => resolve()))
      this.#post({ close: true })
      // BullMQ's close() can wait forever for an unreachable Redis (bullmq#4656).
      const timer = setTimeout(() => void this.#thread.terminate(), 5000)
      await exited
      clearTimeout(timer)
      this.#port.close()
    })()
    return this.#closing
  }

  /** Busy executors keep the process alive, idle ones do not. */
  #setRef(ref: boolean): void {
    if (ref) {
      this.#thread.ref()
      this.#port.ref()
    } else {
      this.#thread.unref()
      this.#port.unref()
    }
  }
}

function jobOptions(options: { attempts?: number; backoff?: Backoff }): JobOptions {
  const attempts = positiveInteger(options.attempts, 'attempts')
  const { backoff } = options
  if (backoff !== undefined && !(typeof backoff === 'number' && backoff >= 0) && !(typeof backoff === 'object' && backoff !== null && (backoff.type === 'fixed' || backoff.type === 'exponential') && backoff.delay >= 0)) {
    throw new TypeError(`backoff must be milliseconds or { type: 'fixed' | 'exponential', delay }, got ${inspect(backoff)}`)
  }
  return { ...(attempts === undefined ? {} : { attempts }), ...(backoff === undefined ? {} : { backoff }) }
}

function checkConnection(connection: unknown): asserts connection is Connection {
  if (typeof connection === 'string' && /^rediss?:\/\//.test(connection)) return
  const isOptions = typeof connection === 'object' && connection !== null && Object.getPrototypeOf(connection) === Object.prototype
  if (!isOptions) {
    throw new TypeError(
      `connection must be ioredis options ({ host, port, ... }) or a redis:// URL, got ${inspect(connection, { depth: 0 })}: ` +
        'a client object cannot be shared with the thread that talks to Redis',
    )
  }
  try {
    structuredClone(connection)
  } catch {
    throw new TypeError('connection options must be plain data (no functions): they are sent to the thread that talks to Redis')
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
