// The messages between a pool and its workers, and the states of a task slot.
//
// A slot is one Int32 in a SharedArrayBuffer shared by the pool and all its
// workers. The pool sets it to PENDING when it hands the task over; the worker
// flips PENDING→RUNNING before it starts the task, and the pool flips
// PENDING→CANCELLED to cancel it: compareExchange decides who wins.
//
//   PENDING ──worker claims──► RUNNING ──pool interrupts──► INTERRUPTED
//      └──pool cancels──► CANCELLED

import type { MessagePort } from 'node:worker_threads'
import type { EncodedValue } from './error-codec.js'
import type { TaskSpec } from '../executors/task.js'

export const PENDING = 0
export const RUNNING = 1
export const CANCELLED = 2
/** RUNNING, and asked to stop: checkInterrupt() throws, taskSignal() aborts. */
export const INTERRUPTED = 3

/** Task flags. */
export const CHUNK = 1 // args is a list of argument lists; the result is a list
export const REPORT_START = 2 // tell the pool when the task starts (it has a timeout)
export const FLUSH_FIRST = 4 // send the results so far before starting it (its worker may be killed under it)

/** Result status. */
export const OK = 0
export const FAILED = 1
export const SKIPPED = 2 // cancelled before it started

/** Pool → worker. `tasks` is flat: id, slot, fnId, args, flags, repeated. */
export interface TaskBatch {
  defs?: Array<[fnId: number, spec: TaskSpec]>
  tasks: unknown[]
}
export interface InterruptRequest {
  interrupt: number
  reason: EncodedValue
}
export type ToWorker = TaskBatch | InterruptRequest

/** Worker → pool. `results` is flat: id, status, payload, repeated; `busyMs` is the time spent running them. */
export interface ResultBatch {
  results: unknown[]
  busyMs: number
}
export type WorkerEvent =
  | { event: 'ready' } // once per worker, after its initializer
  | { event: 'started'; id: number }
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
export type ToChild = { init: ChildInit } | ToWorker

/** The watch thread of a ThreadPoolExecutor (workers/thread-watch.ts). */
export interface ThreadWatchData {
  port: MessagePort
  doorbell: SharedArrayBuffer
}
export type ToWatch = { watch: number; life: MessagePort }
export type FromWatch = { closed: number }
