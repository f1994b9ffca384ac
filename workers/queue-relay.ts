// The relay thread of a QueueExecutor: it owns the Redis connections. They
// need an event loop, and the executor's thread may be stopped in a blocking
// result(); this thread's loop always runs, adds the jobs, listens to the
// queue's events and forwards them on a port, ringing the doorbell.
//
// Events can be missed (the stream is trimmed; a connection drops), so the
// records of jobs pending too long are also read, hundreds per round trip. A
// job whose record is gone settles from its event if the stream still holds
// one, and is JobLost only once the reader has read past where it would be.

import { Job, Queue, type JobsOptions } from 'bullmq'
import { Redis, type RedisOptions } from 'ioredis'
import { workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import {
  CANCEL_EVENT, CANCELLED_REASON, cancelChannel, interruptChannel, leaseKey, Link, Shared, STARTED_EVENT,
  type ErrorLog, type FromRelay, type JobEvent, type JobResult, type NewJob, type RelayData, type RemoteError, type ToRelay,
} from '../src/queue/protocol.js'

const { port, doorbell, shared: sharedBuffer, connection, queue: name, prefix, globalConcurrency, reconcileMs, lease } = workerData as RelayData
const bell = new Int32Array(doorbell)
const shared = new Int32Array(sharedBuffer)

// Commands fail at once while Redis is unreachable, so submit() can say so.
const fastFail: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
const redis = typeof connection === 'string' ? new Redis(connection, fastFail) : new Redis({ ...connection, ...fastFail } as RedisOptions)
let everReady = false
redis.on('ready', () => {
  everReady = true
  Atomics.store(shared, Shared.STATUS, Link.UP)
})
redis.on('error', (error: Error) => {
  Atomics.store(shared, Shared.STATUS, Link.DOWN)
  // Never connected: the jobs waiting for a first connection fail now, rather than wait for a Redis that may never come.
  if (!everReady) for (const [id, entry] of pending) if (!entry.queued) settle(id, { id, event: 'unqueued', reason: `Redis is unreachable (${error.message})` })
})
redis.on('close', () => Atomics.store(shared, Shared.STATUS, Link.DOWN))

const options = { connection: redis, ...(prefix === undefined ? {} : { prefix }) }
const queue = new Queue(name, options)
const eventsKey = queue.keys.events!
const jobKey = (id: string): string => queue.toKey(id)
// A blocking reader keeps retrying while Redis is away.
const eventsClient = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
eventsClient.on('error', () => {})
queue.on('error', () => {}) // the connection's state is read above; this would repeat it

/** The reader's place in the events stream: every event up to it has been handled. */
let lastId = '0-0'
let closing = false

/**
 * Jobs are added once the event reader has a place in the stream: it reads
 * from the last event there was before the first add, so it cannot miss the
 * first jobs' events (reading from '$' can: bullmq#2874).
 */
const listening = (async () => {
  await queue.waitUntilReady()
  lastId = (await redis.xrevrange(eventsKey, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0'
  await renewLease()
  void readEvents()
})()
listening.catch(() => {}) // Redis never answered: adds say so, close() still ends

interface Pending {
  /** The add that queued the job; a cancel waits for it. */
  added: Promise<unknown>
  queued: boolean
  started: boolean
  /** Being removed by this executor: its 'removed' event is a cancel, not a loss. */
  cancelling: boolean
  /** Its worker was asked to withdraw it: only then is a withdrawal (answered, or read as its failure) a cancel. */
  withdrawAsked: boolean
  /** When the job's state was last read (performance.now()). */
  checkedAt: number
}
const pending = new Map<string, Pending>()
/**
 * Jobs whose record was found gone, with the stream's last id read after it:
 * an event of their outcome, if there was one, is at or before that id, so
 * once the reader has passed it without one the job is lost.
 */
const gone = new Map<string, string>()

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
  gone.delete(id)
  answers.get(id)?.(false)
  if (pending.delete(id)) send(event)
}

const BLOCK_MS = 5000
/** Events read in one XREAD. */
const READ_COUNT = 2000
/** The pause between reads while many jobs are out; a lone job's event is read at once. */
const PACE_MS = 1

async function readEvents(): Promise<void> {
  while (!closing) {
    const reply = await readOnce().catch(() => null) // Redis is away: the client reconnects, and the read is tried again
    if (closing) return
    const events = reply?.[0]?.[1] ?? []
    const failures: [string, string][] = []
    for (const [id, fields] of events) {
      lastId = id
      onEvent(fields, failures)
    }
    if (failures.length > 0) void fail(failures)
    settleLost()
    if (reply === null && events.length === 0) await sleep(50)
    // Many jobs out: the next read waits a moment, so it brings many events in one message to the executor, not one each.
    else if (pending.size > 1 && events.length < READ_COUNT) await sleep(PACE_MS)
  }
}

const sleep = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms))

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null

/**
 * One blocking read. ioredis quietly sends an interrupted blocking read again
 * after a reconnect, which can then never answer (see BullMQ's readEvents): a
 * watchdog resets the connection, and the next read starts from lastId.
 */
function readOnce(): Promise<StreamReply> {
  const read = eventsClient.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', eventsKey, lastId) as Promise<StreamReply>
  return new Promise<StreamReply>((resolve, reject) => {
    const watchdog = setTimeout(() => {
      if (!closing) eventsClient.disconnect(true)
      resolve(null)
    }, BLOCK_MS + 2000)
    read.then(resolve, reject).finally(() => clearTimeout(watchdog))
  })
}

/** A field of a stream entry; anyone can write to the stream, so nothing in it is trusted. */
function field(fields: unknown, key: string): string | undefined {
  if (!Array.isArray(fields)) return undefined
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === key) return typeof fields[i + 1] === 'string' ? (fields[i + 1] as string) : undefined
  return undefined
}

function onEvent(fields: string[], failures: [string, string][]): void {
  const event = field(fields, 'event')
  if (event === STARTED_EVENT) return startedAll(field(fields, 'jobIds'))
  const id = field(fields, 'jobId')
  const entry = id === undefined ? undefined : pending.get(id)
  if (!entry) return // not one of this executor's jobs
  switch (event) {
    case CANCEL_EVENT:
      if (field(fields, 'cancelled') === '1' && entry.withdrawAsked) withdrawn(id!)
      else answers.get(id!)?.(false)
      return
    case 'progress':
      return progress(id!, field(fields, 'data'))
    case 'completed':
      return settle(id!, completed(id!, field(fields, 'returnvalue') ?? null))
    case 'failed':
      failures.push([id!, field(fields, 'failedReason') ?? ''])
      return
    case 'removed':
      if (!entry.cancelling) settle(id!, { id: id!, event: 'lost', reason: "it was removed from the queue by someone else (a 'removed' event)" })
  }
}

/** A completed job's outcome from its return value as Redis holds it (JSON of a JobResult). */
function completed(id: string, text: string | null): JobEvent {
  let result: unknown = null
  try {
    if (text !== null) result = JSON.parse(text)
  } catch {
    result = undefined
  }
  if (result === null || (typeof result === 'object' && !Array.isArray(result))) return { id, event: 'completed', result: result as JobResult | null }
  return { id, event: 'failed', error: { failedReason: `the job completed with a return value this library does not write: ${String(text).slice(0, 200)}` } }
}

/** A job's progress, as BullMQ writes it (JSON); anything else in its place is not a report, and is dropped. */
function progress(id: string, data: string | undefined): void {
  let value: unknown
  try {
    value = JSON.parse(data ?? '')
  } catch {
    return
  }
  send({ id, event: 'progress', value })
}

/** The jobs a worker says started (a JSON array of ids); BullMQ's 'active' only means a worker fetched the job. */
function startedAll(jobIds: string | undefined): void {
  let ids: unknown
  try {
    ids = JSON.parse(jobIds ?? '[]')
  } catch {
    return
  }
  if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') started(id)
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
 * Failed jobs: the event carries only the message; the worker logged the
 * whole error on the job, read here for all of them in one round trip. A job
 * that failed for stalling too often has no log.
 */
async function fail(failures: [id: string, failedReason: string][]): Promise<void> {
  const pipeline = redis.pipeline()
  for (const [id] of failures) pipeline.lrange(`${jobKey(id)}:logs`, -1, -1)
  const replies = await pipeline.exec().catch(() => null)
  for (const [i, [id, failedReason]] of failures.entries()) {
    // Its worker's answer was not read first (the reader lagged behind a reconcile, or the stream was trimmed).
    // Asked for, or it is a task's own error that happens to read so, and is reported as one.
    if (failedReason === CANCELLED_REASON && pending.get(id)?.withdrawAsked) {
      withdrawn(id)
      continue
    }
    const [error, lines] = replies?.[i] ?? [null, undefined]
    const line = !error && Array.isArray(lines) && typeof lines[0] === 'string' ? lines[0] : undefined
    settle(id, { id, event: 'failed', error: remoteError(failedReason, line) })
  }
}

function remoteError(failedReason: string, line: string | undefined): RemoteError {
  try {
    const log: unknown = JSON.parse(line ?? '{}')
    if (typeof log === 'object' && log !== null && Object.hasOwn(log, 'cfThrown')) return { failedReason, thrown: (log as ErrorLog).cfThrown }
  } catch {
    // not a line a worker wrote
  }
  return { failedReason }
}

/** Whether stream id `a` comes after `b` ("ms-seq"). */
function after(a: string, b: string): boolean {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number)
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number)
  return aMs > bMs || (aMs === bMs && aSeq > bSeq)
}

/** The gone jobs whose outcome the reader has read past without finding it. */
function settleLost(): void {
  for (const [id, top] of gone) {
    if (after(top, lastId)) continue
    settle(id, {
      id,
      event: 'lost',
      reason: 'Redis no longer holds it, and no event of its outcome was left in the stream for this client to read: it was removed ' +
        '(removeOnComplete/removeOnFail, or by another client) while its event was trimmed away (the stream keeps about ' +
        'maxLenEvents events) before this client read it, or Redis lost its data (a restart without persistence)',
    })
  }
}
port.on('message', (message: ToRelay) => {
  if ('add' in message) add(message.add)
  else if ('cancel' in message) void cancel(message.cancel).then((removed) => answer(message.ticket, removed))
  else if ('interrupt' in message) void interrupt(message.interrupt, message.reason)
  else if ('remove' in message) for (const id of message.remove) void cancel(id).then((removed) => removed && send({ id, event: 'cancelled' }))
  else void close()
})

function add(jobs: NewJob[]): void {
  if (Atomics.load(shared, Shared.STATUS) === Link.DOWN) {
    for (const job of jobs) send({ id: job.id, event: 'unqueued', reason: `Redis is unreachable (${describeConnection()})` })
    return
  }
  const added = listening.then(async () => {
    const live = jobs.filter((job) => pending.has(job.id)).map(({ id, name, data, opts }) => ({ name, data, opts: { ...opts, jobId: id } as JobsOptions }))
    // A lone job by add: through addBulk it reached its worker about 0.05-0.1 ms later (measured side by side with plain add).
    if (live.length === 1) await queue.add(live[0]!.name, live[0]!.data, live[0]!.opts)
    else if (live.length > 1) await queue.addBulk(live)
  })
  const entries = jobs.map((job) => {
    const entry: Pending = { added, queued: false, started: false, cancelling: false, withdrawAsked: false, checkedAt: performance.now() }
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

/** Removes a job that has not started (from the queue, or from the worker that fetched it); false once it has (or finished). */
async function cancel(id: string): Promise<boolean> {
  const entry = pending.get(id)
  if (!entry) return false
  try {
    await entry.added
    const state = await queue.getJobState(id)
    if (state === 'active') return await withdraw(id)
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized' && state !== 'waiting-children') return false
    entry.cancelling = true
    // Not removed: a worker fetched it meanwhile.
    if ((await queue.remove(id)) !== 1) return await withdraw(id)
    pending.delete(id)
    gone.delete(id)
    return true
  } catch {
    return false // Redis is away: nothing is removed
  } finally {
    entry.cancelling = false
  }
}

/**
 * A worker withdrew the job before it started: its cancel() is answered true, or, if it stopped waiting
 * (no answer in time), the future is cancelled now, as asked.
 */
function withdrawn(id: string): void {
  const answer = answers.get(id)
  if (answer) answer(true)
  else settle(id, { id, event: 'cancelled' })
}

/** Answers of the workers to cancel requests, by job id: true if the job was withdrawn before it started. */
const answers = new Map<string, (cancelled: boolean) => void>()
/** How long a cancel waits for the worker that fetched the job to answer (none does if it died meanwhile). */
const WITHDRAW_MS = 3000

/**
 * Asks the worker that fetched the job to withdraw it if it has not started it. Its answer comes in the events
 * stream, before the job's failure; the job finishing first, or no answer, is a no.
 */
async function withdraw(id: string): Promise<boolean> {
  const entry = pending.get(id)
  if (!entry || answers.has(id)) return false
  entry.withdrawAsked = true
  const answered = new Promise<boolean>((resolve) => {
    const answer = (cancelled: boolean): void => {
      clearTimeout(timer)
      answers.delete(id)
      if (cancelled) {
        pending.delete(id)
        gone.delete(id)
      }
      resolve(cancelled)
    }
    const timer = setTimeout(() => answer(false), WITHDRAW_MS)
    answers.set(id, answer)
  })
  await redis.publish(cancelChannel(prefix, name), JSON.stringify({ jobId: id }))
  return answered
}

function answer(ticket: number, removed: boolean): void {
  Atomics.store(shared, Shared.ANSWER, removed ? 1 : 0)
  Atomics.store(shared, Shared.TICKET, ticket)
  Atomics.notify(shared, Shared.TICKET)
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

/** Records read in one round trip. */
const BATCH = 500
let reconciling = false

/** Reads the records of all the jobs whose events are overdue, a batch per round trip. */
async function reconcile(): Promise<void> {
  if (reconciling) return
  reconciling = true
  try {
    const due = performance.now() - reconcileMs
    const ids: string[] = []
    for (const [id, entry] of pending) if (entry.queued && entry.checkedAt < due && !gone.has(id)) ids.push(id)
    for (let i = 0; i < ids.length && !closing; i += BATCH) await readRecords(ids.slice(i, i + BATCH))
    settleLost()
  } catch {
    // Redis is away: try again next time
  } finally {
    reconciling = false
  }
}

async function readRecords(ids: string[]): Promise<void> {
  const pipeline = redis.pipeline()
  for (const id of ids) pipeline.hmget(jobKey(id), 'name', 'finishedOn', 'returnvalue', 'failedReason')
  // Last: any event of a job whose record is gone by now was written before this.
  pipeline.xrevrange(eventsKey, '+', '-', 'COUNT', 1)
  const replies = (await pipeline.exec()) ?? []
  const [topError, topReply] = replies[ids.length] ?? [new Error('no reply')]
  if (topError) throw topError
  const top = (topReply as [string, string[]][])[0]?.[0] ?? '0-0'
  const failures: [string, string][] = []
  for (const [i, id] of ids.entries()) {
    const entry = pending.get(id)
    const [error, record] = replies[i] ?? []
    if (!entry || error || !Array.isArray(record)) continue
    entry.checkedAt = performance.now()
    const [jobName, finishedOn, returnvalue, failedReason] = record as (string | null)[]
    if (jobName === null) gone.set(id, top)
    // An attempt that will be retried leaves its failedReason too: only a return value says completed.
    else if (finishedOn != null && (returnvalue != null || failedReason == null)) settle(id, completed(id, returnvalue ?? null))
    else if (finishedOn != null) failures.push([id, failedReason ?? ''])
  }
  if (failures.length > 0) await fail(failures)
}
const reconciler = setInterval(() => void reconcile(), Math.max(50, reconcileMs / 4))

/** The client's heartbeat: its jobs run only while the key lives. */
const leased = lease && leaseKey(prefix, name, lease.client)
async function renewLease(): Promise<void> {
  if (leased) await redis.set(leased, '1', 'PX', lease.ms)
}
const heartbeat = leased ? setInterval(() => void renewLease().catch(() => {}), lease.ms / 3) : undefined

function describeConnection(): string {
  const { host, port } = redis.options
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`
}

async function close(): Promise<void> {
  closing = true
  clearInterval(reconciler)
  clearInterval(heartbeat)
  if (leased) await redis.del(leased).catch(() => {})
  const closed = Promise.allSettled([queue.close()])
  // BullMQ's close() can wait forever for an unreachable Redis (bullmq#4656).
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  eventsClient.disconnect()
  redis.disconnect()
  port.close()
}

if (globalConcurrency !== undefined) void queue.setGlobalConcurrency(globalConcurrency).catch(() => {})
