// The worker side of a QueueExecutor: serves a queue with the functions one
// module exports, by name. `concurrent-futures worker` runs this.
//
// Each job runs on a local thread or process pool, so this event loop stays
// free to renew the jobs' locks, and a task interrupted by its submitter or
// its timeout can really be stopped.

import { UnrecoverableError, Worker, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import { setMaxListeners } from 'node:events'
import { availableParallelism } from 'node:os'
import { TimeoutError } from '../concurrent/errors.js'
import { checkOptions, integer, MAX_TIMER_MS, MAX_WORKERS, nested, oneOf, positiveInteger, show, string, type Schema } from '../concurrent/validate.js'
import type { Executor } from '../executors/executor.js'
import { ProcessPoolExecutor } from '../executors/process-pool.js'
import { taskRef, moduleUrl, type AnyFn, type TaskRef } from '../executors/task.js'
import { ThreadPoolExecutor } from '../executors/thread-pool.js'
import { encodeThrown, type EncodedValue } from '../wire/error-codec.js'
import { checkJson } from './json.js'
import { checkJobData } from './job-data.js'
import { jobProgress } from './job-progress.js'
import { RecentInterrupts } from './interrupts.js'
import { connectionCheck, queueName } from './queue-executor.js'
import { CANCEL_EVENT, CANCELLED_REASON, cancelChannel, interruptChannel, leaseKey, STARTED_EVENT, type Connection, type ErrorLog, type JobData, type JobResult } from './protocol.js'
import { StartGate } from './start-gate.js'

/** Options of `serve()`: the queue to serve, the task module and how jobs run. */
export interface ServeOptions {
  connection: Connection
  queue: string
  prefix?: string
  /** The module whose exported functions this worker runs: a URL, an absolute path or a package name. */
  tasks: string | URL
  /** Jobs run at once by this worker, each on its own thread or process (default: the cores). */
  concurrency?: number
  /** Where jobs run (default 'thread'). */
  executor?: 'thread' | 'process'
  /** A job whose worker stops renewing its lock for this long is taken to have stalled (default 30000). */
  lockDurationMs?: number
  /** How often to look for stalled jobs (default 30000). */
  stalledIntervalMs?: number
  /** Stalls a job survives before its future fails with WorkerLost (default 1; 0 for at-most-once). */
  maxStalledCount?: number
  /** At most `max` jobs per `durationMs` over all the queue's workers. */
  rateLimit?: { max: number; durationMs: number }
}

/** A running queue worker, as `serve()` returns it: `close()` lets running jobs finish. */
export interface QueueWorker {
  /** The task names served. */
  readonly tasks: readonly string[]
  /** Finishes the running jobs, takes no more, and stops. */
  close(): Promise<void>
}

/** How long a closing worker waits, once its jobs are done, for Redis to record their outcomes. */
const RECORD_MS = 2000
/** How often the jobs that started are named to their submitters (most short ones finish in between, unnamed). */
const STARTED_MS = 10

// BullMQ arms timers with these (lock renewal at half the lock duration), which cannot wait longer.
const timerMs = integer(1, MAX_TIMER_MS, 'the longest timer')

const serveSchema: Schema<ServeOptions> = {
  connection: connectionCheck,
  queue: queueName,
  prefix: string,
  tasks: (value, name) => {
    if (!(value instanceof URL) && typeof value !== 'string') throw new TypeError(`${name} must be a URL, an absolute path or a package name, got ${show(value)}`)
    moduleUrl(value)
    return value
  },
  concurrency: integer(1, MAX_WORKERS, 'MAX_WORKERS'),
  executor: oneOf('thread', 'process'),
  lockDurationMs: timerMs,
  stalledIntervalMs: timerMs,
  maxStalledCount: integer(0),
  rateLimit: nested<{ max: number; durationMs: number }>({ max: positiveInteger, durationMs: timerMs }),
}

/** Serves a QueueExecutor's queue from this process, running the functions its task module exports (what `concurrent-futures worker` runs). */
export async function serve(given: ServeOptions): Promise<QueueWorker> {
  const options = checkOptions(given, serveSchema, 'serve()')
  const { connection, queue, prefix, executor = 'thread' } = options
  for (const required of ['connection', 'queue', 'tasks'] as const) {
    if (options[required] === undefined) throw new TypeError(`serve() option ${required} is required`)
  }
  const concurrency = options.concurrency ?? Math.min(availableParallelism(), MAX_WORKERS)
  const registry = await register(moduleUrl(options.tasks))

  const local: Executor = executor === 'thread'
    ? new ThreadPoolExecutor({ maxWorkers: concurrency, submitStacks: false })
    : new ProcessPoolExecutor({ maxWorkers: concurrency, onChildExit: 'replace', submitStacks: false })
  const redis = typeof connection === 'string' ? new Redis(connection, { maxRetriesPerRequest: null }) : new Redis({ ...connection, maxRetriesPerRequest: null })
  const base = { connection: redis, ...(prefix === undefined ? {} : { prefix }) }

  // Interrupt requests for jobs this worker runs, or may soon start.
  const interrupted = new RecentInterrupts()
  const interrupts = interruptChannel(prefix, queue)
  const cancels = cancelChannel(prefix, queue)
  const subscriber = redis.duplicate()
  subscriber.on('message', (channel: string, message: string) => {
    const heard = interrupted.hear(message)
    if (!heard) return
    if (channel === cancels) return answerCancel(heard.jobId)
    if (!gate.refuse(heard.jobId, new Unrunnable(`interrupted before it started: ${heard.reason}`)) && !worker.cancelJob(heard.jobId, heard.reason)) {
      interrupted.remember(heard.jobId, heard.reason)
    }
  })
  /** Cancels a fetched job that has not started. The answer is written before the job fails: on this connection, the failure comes later. */
  const answerCancel = (jobId: string): void => {
    const outcome = gate.cancel(jobId, new Unrunnable(CANCELLED_REASON))
    if (outcome !== 'unknown') void redis.xadd(events, '*', 'event', CANCEL_EVENT, 'jobId', jobId, 'cancelled', outcome === 'withdrawn' ? '1' : '0').catch(() => {})
  }

  const run = async (job: Job<JobData, JobResult>, _token: string | undefined, signal: AbortSignal | undefined): Promise<JobResult> => {
    try {
      const task = registry.get(job.name)
      if (!task) throw new Unrunnable(`unknown task '${job.name}': this worker serves ${[...registry.keys()].join(', ')}`)
      const data = jobData(job.data)
      await gate.enter(job.id!, data.chunk === true)
      naming ??= setInterval(name, STARTED_MS)
      try {
        return await start(job, task, data, signal)
      } finally {
        gate.leave(job.id!)
      }
    } catch (error) {
      const thrown = encodeThrown(error, 'json')
      await job.log(JSON.stringify({ cfThrown: thrown } satisfies ErrorLog)).catch(() => {})
      const final = signal?.aborted || error instanceof TimeoutError || error instanceof Unrunnable
      throw forBullmq(thrown, final ? UnrecoverableError : Error)
    }
  }

  const start = async (job: Job<JobData, JobResult>, task: TaskRef<AnyFn>, data: JobData, signal: AbortSignal | undefined): Promise<JobResult> => {
    const refused = data.interrupt ?? interrupted.get(job.id!)
    if (refused !== undefined) throw new Unrunnable(`interrupted before it started: ${refused}`)
    if (data.lease !== undefined && (await redis.exists(leaseKey(prefix, queue, data.lease))) === 0) {
      throw new Unrunnable('not started: its client is gone (its lease expired: no heartbeat for longer than its leaseMs)')
    }
    const { args, chunk, timeoutMs } = data
    const submitOptions = { ...(signal ? { signal } : {}), ...(timeoutMs === undefined ? {} : { timeoutMs }) }
    if (!chunk) {
      const progress = jobProgress((value) => job.updateProgress(value as object), job.name)
      const call = local.submitWith({ ...submitOptions, onProgress: progress.report }, task, ...(args as never[]))
      gate.handed(job.id!, [call])
      try {
        return { v: checked(await call, job.name) }
      } catch (error) {
        // Cancelled in the pool, and not by an interrupt (which aborts the signal): a cancel request withdrew it.
        // A CancelledError the task threw itself leaves its call finished, not cancelled, and is its error.
        throw call.cancelled() && !signal?.aborted ? new Unrunnable(CANCELLED_REASON) : error
      } finally {
        await progress.written() // its events go before the job's outcome
      }
    }
    // Each call of the chunk listens to the job's signal until it settles: as many listeners as calls is no leak.
    if (signal) setMaxListeners(args.length + 10, signal)
    const values = await Promise.all((args as unknown[][]).map((one) => local.submitWith(submitOptions, task, ...(one as never[]))))
    // As an object, whose undefined entries JSON drops, so they read back as undefined rather than null.
    return { v: { ...values.map((value) => checked(value, job.name)) } }
  }

  // The jobs running, so that close() knows when they are done whatever Redis does.
  let running = 0
  let onIdle: (() => void) | undefined
  // Three parameters, as run's: BullMQ passes a job's abort signal only to a processor that declares it.
  const counted = (processor: typeof run): typeof run => async (job, token, signal) => {
    running++
    try {
      return await processor(job, token, signal)
    } finally {
      if (--running === 0) onIdle?.()
    }
  }
  const idle = (): Promise<void> => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve)))

  const worker = new Worker<JobData, JobResult>(queue, counted(run), {
    ...base,
    concurrency,
    ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
    ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
    ...(options.maxStalledCount === undefined ? {} : { maxStalledCount: options.maxStalledCount }),
    ...(options.rateLimit ? { limiter: { max: options.rateLimit.max, duration: options.rateLimit.durationMs } } : {}),
  })
  // ioredis retries a lost connection every few hundred ms: say so once per outage, not once per try.
  let lastError: string | undefined
  worker.on('error', (error) => {
    if (error.message !== lastError) console.error(`concurrent-futures worker (${queue}): ${error.message}; retrying`)
    lastError = error.message
  })
  redis.on('ready', () => {
    if (lastError !== undefined) console.error(`concurrent-futures worker (${queue}): connected to Redis again`)
    lastError = undefined
  })
  subscriber.on('error', () => {}) // the worker reports the same connection's errors
  const gate = new StartGate(concurrency, (ahead) => (worker.concurrency = concurrency + ahead))
  worker.on('drained', () => gate.drained())
  const events = worker.keys.events!
  // Names the jobs that really started to their submitters, in one entry per round, while jobs run.
  let naming: NodeJS.Timeout | undefined
  const name = (): void => {
    const ids = gate.started()
    if (ids.length > 0) void redis.xadd(events, '*', 'event', STARTED_EVENT, 'jobIds', JSON.stringify(ids)).catch(() => {})
    if (!gate.busy()) {
      clearInterval(naming)
      naming = undefined
    }
  }
  await Promise.all([worker.waitUntilReady(), subscriber.subscribe(interrupts, cancels)])

  let closing: Promise<void> | undefined
  return {
    tasks: [...registry.keys()],
    close: () =>
      (closing ??= (async () => {
        // BullMQ's close() waits for the running jobs, then for Redis, which may never answer (bullmq#4656):
        // once the jobs are done, a little while to record their outcomes, no more (an unrecorded one runs again elsewhere).
        const closed = worker.close()
        closed.catch(() => {})
        await Promise.race([closed, idle().then(() => new Promise((resolve) => setTimeout(resolve, RECORD_MS)))])
        await local.shutdown()
        clearInterval(naming)
        subscriber.disconnect()
        redis.disconnect() // BullMQ leaves the connection it was given open
      })()),
  }
}

function checked(value: unknown, name: string): unknown {
  checkJson(value, `the result of ${name}`)
  return value
}

/** The functions the module exports, by name; a Map, so no job name reaches Object.prototype. */
async function register(url: string): Promise<Map<string, TaskRef<AnyFn>>> {
  const module = (await import(url)) as Record<string, unknown>
  const registry = new Map<string, TaskRef<AnyFn>>()
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function' && !/^class\b/.test(Function.prototype.toString.call(value))) registry.set(name, taskRef(url, name))
  }
  if (registry.size === 0) throw new TypeError(`${url} exports no functions, so there is nothing to serve`)
  return registry
}

/** A job no attempt can run: retries are pointless. */
class Unrunnable extends Error {}

function jobData(data: unknown): JobData {
  try {
    return checkJobData(data)
  } catch (error) {
    throw new Unrunnable((error as Error).message)
  }
}

/**
 * The error BullMQ records, its stack's first line made to read `Name: message`,
 * as dashboards show it. BullMQ keeps only an error's message and stack, so
 * the whole error also goes in the job's log, where the submitter reads it.
 */
function forBullmq(thrown: EncodedValue, Class: new (message: string) => Error): Error {
  // Not an error: the value as JSON (what the channel made it; String() could call its hostile toString).
  const { name, message, stack = '' } = 'error' in thrown ? thrown.error : { name: 'Error', message: typeof thrown.value === 'string' ? thrown.value : String(JSON.stringify(thrown.value)) }
  const out = new Class(message)
  const frames = stack.indexOf('\n    at ')
  out.stack = `${name}: ${message}${frames >= 0 ? stack.slice(frames) : ''}`
  return out
}
