// The messages between a pool and its workers (and, for a process pool, its
// relay thread). The task slots are in slots.ts, the batches of tasks and
// results in batches.ts.

import type { MessagePort } from 'node:worker_threads'
import type { PackedTasks, ResultBatch, TaskBatch } from './batches.js'
import type { EncodedValue } from './error-codec.js'
import type { TaskSpec } from './task-spec.js'

/** Pool → worker: stop the task running in slot `interrupt` (see slots.ts). */
export interface InterruptRequest {
  interrupt: number
  reason: EncodedValue
}
/**
 * Pool → worker: the consumer of the streamed task `stream` (its id) takes
 * `credit` more items. A stream starts with STREAM_WINDOW items of credit.
 */
export interface StreamCredit {
  stream: number
  credit: number
}
export type ToWorker = TaskBatch | InterruptRequest | StreamCredit

/**
 * The most items a streamed task runs ahead of its consumer: its worker
 * produces an item only with credit, and the consumer grants credit as it
 * takes items, up to this many beyond the last one taken.
 */
export const STREAM_WINDOW = 128

export type WorkerEvent =
  | { event: 'ready' } // once per worker, after its initializer
  | { event: 'started'; id: number }
  /** What the running task `id` reported (reportProgress()), already coalesced by the worker (task-context.ts). */
  | { event: 'progress'; id: number; value: unknown }
  /** Items a streamed task yielded, in order, within the credit it was given. */
  | { event: 'items'; id: number; items: unknown[] }
  | { event: 'init-failed'; error: EncodedValue }
  /** Sent as a worker goes, after the results it has; `running`: the id of the task it was running, if any. */
  | { event: 'exit'; code: number; error?: EncodedValue; running?: number }
export type FromWorker = ResultBatch | WorkerEvent

export interface ThreadWorkerData {
  name: string
  port: MessagePort
  /** Held, never used: its other end, in the watch thread, closes when this worker ends (see thread-watch.ts). */
  life: MessagePort
  doorbell: SharedArrayBuffer
  slots: SharedArrayBuffer
  initializer?: TaskSpec
  initargs: unknown[]
}

/**
 * A ProcessPoolExecutor talks to its children through a relay thread (see
 * process-pool.ts), addressing each child by a number that is never reused.
 */
export interface RelayData {
  port: MessagePort
  doorbell: SharedArrayBuffer
  /** The pool's task slots: the relay claims each task as it hands it to a child. */
  slots: SharedArrayBuffer
  entry: string
  /** Always explicit: the relay runs with no flags and an empty environment of its own. */
  fork: { execArgv: string[]; env: Record<string, string | undefined>; serialization: 'advanced' | 'json' }
}
export type ToRelay =
  | { spawn: number; init: ChildInit }
  | { to: number; message: ToWorker }
  | { stop: number; kill: boolean | 'SIGTERM' } // false: once its work is done; true: SIGKILL
  | { close: number } // stop every child, killing those still there after this many ms
export type FromRelay =
  | { from: number; message: FromWorker }
  | { exit: number; code: number | null; signal: string | null }
  | { closed: true }

/** The first message a child receives. */
export interface ChildInit {
  name: string
  /** How many task slots the pool has, so the child can keep its own copy of the states it sees. */
  slotCount: number
  serialization: 'advanced' | 'json'
  initializer?: TaskSpec
  initargs: unknown[]
}
/** What a child receives on its IPC channel: a task batch goes packed (batches.ts). What it sends is in child-channel.ts. */
export type ToChild = { init: ChildInit } | InterruptRequest | StreamCredit | PackedTasks

/** The watch thread of a ThreadPoolExecutor (workers/thread-watch.ts). */
export interface ThreadWatchData {
  port: MessagePort
  doorbell: SharedArrayBuffer
}
export type ToWatch = { watch: number; life: MessagePort }
export type FromWatch = { closed: number }
