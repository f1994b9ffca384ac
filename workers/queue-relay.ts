// The relay thread of a QueueExecutor: it owns the Redis connections. They
// need an event loop, and the executor's thread may be stopped in a blocking
// result(); this thread's loop always runs, adds the jobs, listens to the
// queue's events and forwards them on a port, ringing the doorbell.
//
// Events can be missed (the stream is trimmed; a connection drops), so the
// state of jobs pending too long is also read now and then.

import { Job, Queue, QueueEvents, type JobsOptions } from 'bullmq'
import { Redis, type RedisOptions } from 'ioredis'
import { workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import {
  ANSWER, DOWN, interruptChannel, STATUS, TICKET, UP,
  type ErrorLog, type FromRelay, type JobEvent, type JobResult, type NewJob, type RelayData, type RemoteError, type ToRelay,
} from '../src/queue/protocol.js'

const { port, doorbell, shared: sharedBuffer, connection, queue: name, prefix, globalConcurrency, reconcileMs } = workerData as RelayData
const bell = new Int32Array(doorbell)
const shared = new Int32Array(sharedBuffer)

// Commands fail at once while Redis is unreachable, so submit() can say so.
const fastFail: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
const redis = typeof connection === 'string' ? new Redis(connection, fastFail) : new Redis({ ...connection, ...fastFail } as RedisOptions)
let everReady = false
redis.on('ready', () => {
  everReady = true
  Atomics.store(shared, STATUS, UP)
})
redis.on('error', (error: Error) => {
  Atomics.store(shared, STATUS, DOWN)
  // Never connected: the jobs waiting for a first connection fail now, rather than wait for a Redis that may never come.
  if (!everReady) for (const [id, entry] of pending) if (!entry.queued) settle(id, { id, event: 'unqueued', reason: `Redis is unreachable (${error.message})` })
})
redis.on('close', () => Atomics.store(shared, STATUS, DOWN))

const options = { connection: redis, ...(prefix === undefined ? {} : { prefix }) }
const queue = new Queue(name, options)
// A blocking reader keeps retrying while Redis is away.
const eventsClient = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
eventsClient.on('error', () => {})
queue.on('error', () => {}) // the connection's state is read above; this would repeat it

/**
 * Jobs are added once the event reader has a place in the stream: it reads
 * from the last event there was before the first add, so it cannot miss the
 * first jobs' events (reading from '$', as by default, can: bullmq#2874).
 */
const listening = (async () => {
  await queue.waitUntilReady()
  const [last] = await redis.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1)
  const events = new QueueEvents(name, { ...options, connection: eventsClient, autorun: false, lastEventId: last?.[0] ?? '0-0' })
  events.on('error', () => {})
  listen(events)
  void events.run().catch(() => {})
  return events
})()
listening.catch(() => {}) // Redis never answered: adds say so, close() still ends

interface Pending {
  /** The add that queued the job; a cancel waits for it. */
  added: Promise<unknown>
  queued: boolean
  started: boolean
  /** When the job's state was last read (performance.now()). */
  checkedAt: number
}
const pending = new Map<string, Pending>()

let outbox: JobEvent[] = []
function send(event: JobEvent): void {
  if (outbox.length === 0) queueMicrotask(flush)
  outbox.push(event)
}
function flush(): void {
  const message: FromRelay = { events: outbox }
  outbox = []
  port.postMessage(message)
  ring(bell)
}

function settle(id: string, event: JobEvent): void {
  if (pending.delete(id)) send(event)
}

function listen(events: QueueEvents): void {
  events.on('active', ({ jobId }) => started(jobId))
  events.on('completed', ({ jobId, returnvalue }) => settle(jobId, { id: jobId, event: 'completed', result: returnvalue as unknown as JobResult | null }))
  events.on('removed', ({ jobId }) => settle(jobId, { id: jobId, event: 'removed' }))
  events.on('failed', ({ jobId, failedReason }) => {
    if (pending.has(jobId)) void remoteError(jobId, failedReason).then((error) => settle(jobId, { id: jobId, event: 'failed', error }))
  })
}

function started(id: string): void {
  const entry = pending.get(id)
  if (entry && !entry.started) {
    entry.started = true
    send({ id, event: 'active' })
  }
}

let connectedBefore = false
eventsClient.on('ready', () => {
  // Back after a break: events may have been trimmed away meanwhile.
  if (connectedBefore) for (const entry of pending.values()) entry.checkedAt = -Infinity
  connectedBefore = true
})

/**
 * The failed event carries only the message; the worker logged the whole
 * error on the job. A job that failed for stalling too often has no log.
 */
async function remoteError(id: string, failedReason: string): Promise<RemoteError> {
  const log = await queue.getJobLogs(id, 0, 0, false).catch(() => undefined)
  try {
    const { cfThrown } = JSON.parse(log?.logs[0] ?? '{}') as Partial<ErrorLog>
    if (cfThrown) return { failedReason, thrown: cfThrown }
  } catch {
    // not a line a worker wrote
  }
  return { failedReason }
}

port.on('message', (message: ToRelay) => {
  if ('add' in message) add(message.add)
  else if ('cancel' in message) void cancel(message.cancel).then((removed) => answer(message.ticket, removed))
  else if ('interrupt' in message) void interrupt(message.interrupt, message.reason)
  else if ('remove' in message) for (const id of message.remove) void cancel(id).then((removed) => removed && send({ id, event: 'removed' }))
  else void close()
})

function add(jobs: NewJob[]): void {
  if (Atomics.load(shared, STATUS) === DOWN) {
    for (const job of jobs) send({ id: job.id, event: 'unqueued', reason: `Redis is unreachable (${describeConnection()})` })
    return
  }
  const added = listening.then(async () => {
    const live = jobs.filter((job) => pending.has(job.id))
    if (live.length > 0) await queue.addBulk(live.map(({ id, name, data, opts }) => ({ name, data, opts: { ...opts, jobId: id } as JobsOptions })))
  })
  const entries = jobs.map((job) => {
    const entry = { added, queued: false, started: false, checkedAt: performance.now() }
    pending.set(job.id, entry)
    return entry
  })
  added.then(
    () => entries.forEach((entry) => (entry.queued = true)),
    (error: Error) => {
      for (const job of jobs) if (pending.delete(job.id)) send({ id: job.id, event: 'unqueued', reason: error.message })
    },
  )
}

/** Removes a job that has not started; false once it has (or finished). */
async function cancel(id: string): Promise<boolean> {
  const entry = pending.get(id)
  if (!entry) return false
  try {
    await entry.added
    const state = await queue.getJobState(id)
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized' && state !== 'waiting-children') return false
    if ((await queue.remove(id)) !== 1) return false
    pending.delete(id)
    return true
  } catch {
    return false // Redis is away: nothing is removed
  }
}

function answer(ticket: number, removed: boolean): void {
  Atomics.store(shared, ANSWER, removed ? 1 : 0)
  Atomics.store(shared, TICKET, ticket)
  Atomics.notify(shared, TICKET)
}

/**
 * Tells the worker running the job to stop, by a message on the queue's
 * interrupt channel; and marks the job, so a worker that picks it up later
 * (after a stall, or not yet listening) refuses it.
 */
async function interrupt(id: string, reason: string): Promise<void> {
  try {
    await redis.publish(interruptChannel(prefix, name), JSON.stringify({ jobId: id, reason }))
    const job = await Job.fromId(queue, id)
    if (job && !job.finishedOn) await job.updateData({ ...job.data, interrupt: reason })
  } catch {
    // Redis is away or the job is gone: it will finish as it would have.
  }
}

/** Reads the state of the jobs whose events are longest overdue. */
async function reconcile(): Promise<void> {
  const due = performance.now() - reconcileMs
  const ids = [...pending].filter(([, entry]) => entry.queued && entry.checkedAt < due).slice(0, 256).map(([id]) => id)
  await Promise.all(ids.map(async (id) => {
    const entry = pending.get(id)
    if (!entry) return
    entry.checkedAt = performance.now()
    const state = await queue.getJobState(id)
    if (state === 'completed') {
      const job = await Job.fromId(queue, id)
      settle(id, { id, event: 'completed', result: job?.returnvalue as JobResult | null })
    } else if (state === 'failed') {
      const job = await Job.fromId(queue, id)
      settle(id, { id, event: 'failed', error: await remoteError(id, job?.failedReason ?? 'the job failed, and was removed') })
    } else if (state === 'active') {
      started(id)
    } else if (state === 'unknown') {
      settle(id, { id, event: 'removed' })
    }
  })).catch(() => {}) // Redis is away: try again next time
}
const reconciler = setInterval(() => void reconcile(), Math.max(50, reconcileMs / 4))

function describeConnection(): string {
  const { host, port } = redis.options
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`
}

async function close(): Promise<void> {
  clearInterval(reconciler)
  const closed = Promise.allSettled([queue.close(), ...(everReady ? [listening.then((events) => events.close())] : [])])
  // BullMQ's close() can wait forever for an unreachable Redis (bullmq#4656).
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  eventsClient.disconnect()
  redis.disconnect()
  port.close()
}

if (globalConcurrency !== undefined) void queue.setGlobalConcurrency(globalConcurrency).catch(() => {})
