// What travels between a QueueExecutor, its relay thread and the workers
// that serve the queue. Jobs carry a task name and JSON data, never code.

import type { MessagePort } from 'node:worker_threads'
import type { EncodedValue } from '../wire/error-codec.js'

/** The data of a BullMQ job. */
export interface JobData {
  /** The task's arguments; for a chunk (map with a chunksize), a list of argument lists. */
  args: unknown[]
  chunk?: true
  /** Interrupt the task once it has run this long. */
  timeoutMs?: number
  /** Set when the submitter interrupted the job: a worker that picks it up later refuses it. */
  interrupt?: string
  /** The submitting client, when it holds a lease: a worker runs the job only while leaseKey() exists. */
  lease?: string
}

/** A job's return value, wrapped so `undefined` survives JSON; a chunk's results as an object keyed by index. */
export interface JobResult {
  v?: unknown
}

/** The Redis pub/sub channel on which a queue's workers hear which job to interrupt ({ jobId, reason } as JSON). */
export function interruptChannel(prefix: string | undefined, queue: string): string {
  return `${prefix ?? 'bull'}:${queue}:cf:interrupt`
}

/**
 * The Redis pub/sub channel on which a queue's workers hear which fetched job to cancel if it has not started
 * ({ jobId } as JSON). The worker holding it answers with a CANCEL_EVENT in the queue's events stream.
 */
export function cancelChannel(prefix: string | undefined, queue: string): string {
  return `${prefix ?? 'bull'}:${queue}:cf:cancel`
}

/**
 * Events workers add to the queue's events stream, since BullMQ's own 'active' means fetched, not started:
 * STARTED_EVENT names (jobIds: a JSON array) the jobs that started a while ago and still run;
 * CANCEL_EVENT answers a cancel request for jobId (cancelled: '1' if the job was withdrawn before it started, '0' if it runs).
 */
export const STARTED_EVENT = 'cf:started'
export const CANCEL_EVENT = 'cf:cancel'

/** The key a client with a lease keeps alive (a heartbeat with an expiry) while it is there. */
export function leaseKey(prefix: string | undefined, queue: string, client: string): string {
  return `${prefix ?? 'bull'}:${queue}:cf:lease:${client}`
}

/** The failedReason a worker gives a fetched job it withdrew on a cancel request, before the job started. */
export const CANCELLED_REASON = 'cancelled by its submitter before it started'

/** BullMQ's failedReason for a job whose worker stopped renewing its lock too often. */
export const STALLED_REASON = 'job stalled more than allowable limit'

/** The delay between retries: milliseconds, or a fixed or exponential schedule. */
export type Backoff = number | { type: 'fixed' | 'exponential'; delay: number; jitter?: number }
/** How long BullMQ keeps a finished job: true (remove at once), a count, or an age in seconds and/or a count. */
export type KeepJobs = boolean | number | { age?: number; count?: number }

export interface JobOptions {
  attempts?: number
  backoff?: Backoff
  removeOnComplete?: KeepJobs
  removeOnFail?: KeepJobs
  /** BullMQ's: lower first, absent (0) before any. */
  priority?: number
}

/** Redis connection options (ioredis'), or a redis:// URL. */
export type Connection = string | { host?: string; port?: number; username?: string; password?: string; db?: number; tls?: object; [option: string]: unknown }

export interface RelayData {
  port: MessagePort
  doorbell: SharedArrayBuffer
  /** Int32 words: see Shared. */
  shared: SharedArrayBuffer
  connection: Connection
  queue: string
  prefix: string | undefined
  globalConcurrency: number | undefined
  reconcileMs: number
  /** The client's id and lease, when it has one. */
  lease: { client: string; ms: number } | undefined
}

/**
 * The Int32 words a client shares with its relay thread: STATUS, the relay's
 * Redis connection (0 until the first attempt to connect ends, then a Link);
 * TICKET, the last cancel request answered, and ANSWER its answer (1: removed).
 */
export const Shared = { STATUS: 0, TICKET: 1, ANSWER: 2, WORDS: 3 } as const
export const Link = { UP: 1, DOWN: 2 } as const

export interface NewJob {
  id: string
  name: string
  data: JobData
  opts: JobOptions
}

export type ToRelay =
  | { add: NewJob[] }
  | { cancel: string; ticket: number }
  | { interrupt: string; reason: string }
  | { remove: string[] }
  | { close: true }

/** Why a job failed: BullMQ's failedReason (the message), and the whole error as the worker logged it. */
export interface RemoteError {
  failedReason: string
  thrown?: EncodedValue
}

/** The job log line in which a worker leaves the whole error it failed with. */
export interface ErrorLog {
  cfThrown: EncodedValue
}

/** One change of a job, as the relay saw it. */
export type JobEvent =
  | { id: string; event: 'active' }
  /** A value the task reported (BullMQ's job progress, as JSON). */
  | { id: string; event: 'progress'; value: unknown }
  | { id: string; event: 'completed'; result: JobResult | null }
  | { id: string; event: 'failed'; error: RemoteError }
  /** Removed from the queue by this executor's shutdown({ cancelFutures }). */
  | { id: string; event: 'cancelled' }
  /** Gone from Redis with no outcome left to read: why, as far as the relay knows. */
  | { id: string; event: 'lost'; reason: string }
  /** The job never reached Redis. */
  | { id: string; event: 'unqueued'; reason: string }

export interface FromRelay {
  events: JobEvent[]
}
