// The two batches that carry tasks to a worker and results back. Each is one
// flat array, a fixed number of entries a task (its stride), so a batch of a
// thousand tasks is one array to clone rather than a thousand objects. Only
// these helpers know the layout: the pool packs, the workers and the relay
// read and repack.

import type { TaskSpec } from './task-spec.js'

/** Task flags. */
export const CHUNK = 1 // args is a list of argument lists; the result is a list
export const REPORT_START = 2 // tell the pool when the task starts (it has a timeout)
export const FLUSH_FIRST = 4 // send the results so far before starting it (its worker may be killed under it)
export const STREAM = 8 // a generator task: its items go back as they come (workers/stream-runner.ts), its return value is the result

/** Result status. */
export const OK = 0
export const FAILED = 1
export const SKIPPED = 2 // cancelled before it started

/** Pool → worker. `tasks`: TASK_STRIDE entries a task (id, slot, fnId, args, flags); `defs`: the functions the worker has not seen. */
export interface TaskBatch {
  defs?: Array<[fnId: number, spec: TaskSpec]>
  tasks: unknown[]
}

/** Worker → pool. `results`: RESULT_STRIDE entries a task (id, status, payload); `busyMs`: the time spent running them. */
export interface ResultBatch {
  results: unknown[]
  busyMs: number
}

export const TASK_STRIDE = 5
export const RESULT_STRIDE = 3

export function pushTask(tasks: unknown[], id: number, slot: number, fnId: number, args: unknown, flags: number): void {
  tasks.push(id, slot, fnId, args, flags)
}

/** Appends task `k` of `from` to `to`, as it is. */
export function copyTask(from: unknown[], k: number, to: unknown[]): void {
  const i = k * TASK_STRIDE
  to.push(from[i], from[i + 1], from[i + 2], from[i + 3], from[i + 4])
}

export const taskCount = (tasks: unknown[]): number => tasks.length / TASK_STRIDE
export const taskId = (tasks: unknown[], k: number): number => tasks[k * TASK_STRIDE] as number
export const taskSlot = (tasks: unknown[], k: number): number => tasks[k * TASK_STRIDE + 1] as number
export const taskFn = (tasks: unknown[], k: number): number => tasks[k * TASK_STRIDE + 2] as number
export const taskArgs = (tasks: unknown[], k: number): unknown[] => tasks[k * TASK_STRIDE + 3] as unknown[]
export const taskFlags = (tasks: unknown[], k: number): number => tasks[k * TASK_STRIDE + 4] as number

export function pushResult(results: unknown[], id: number, status: number, payload: unknown): void {
  results.push(id, status, payload)
}

/** Replaces the outcome of result `k`. */
export function setResult(results: unknown[], k: number, status: number, payload: unknown): void {
  results[k * RESULT_STRIDE + 1] = status
  results[k * RESULT_STRIDE + 2] = payload
}

export const resultCount = (results: unknown[]): number => results.length / RESULT_STRIDE
export const resultId = (results: unknown[], k: number): number => results[k * RESULT_STRIDE] as number
export const resultStatus = (results: unknown[], k: number): number => results[k * RESULT_STRIDE + 1] as number
export const resultPayload = (results: unknown[], k: number): unknown => results[k * RESULT_STRIDE + 2]

/** Drops the first `n` tasks of `tasks`. */
export function dropTasks(tasks: unknown[], n: number): void {
  tasks.splice(0, n * TASK_STRIDE)
}

// Across a child process's IPC channel the two batches travel as bare
// arrays: Node's IPC writes an object's keys into each message and builds
// the object again on the other side: 1–3 µs of a sequential round trip
// (which crosses the channel twice), measured against bare arrays.

/** A TaskBatch on a child's channel: its tasks alone, unless it brings definitions. */
export type PackedTasks = unknown[] | TaskBatch

export const packTasks = (batch: TaskBatch): PackedTasks => (batch.defs === undefined ? batch.tasks : batch)

export const unpackTasks = (packed: PackedTasks): TaskBatch => (Array.isArray(packed) ? { tasks: packed } : packed)

/** A ResultBatch on a child's channel: its results, then busyMs (and the tag of child-channel.ts). */
export type PackedResults = unknown[]

export const packResults = ({ results, busyMs }: ResultBatch): PackedResults => [...results, busyMs]

/**
 * Takes `packed`, as received, over as the batch's results; undefined if it
 * is not a packed batch: a child's channel can carry anything (child-channel.ts).
 */
export function unpackResults(packed: unknown[]): ResultBatch | undefined {
  const count = (packed.length - 1) / RESULT_STRIDE
  if (!Number.isInteger(count) || typeof packed[packed.length - 1] !== 'number') return undefined
  for (let k = 0; k < count; k++) {
    const status = packed[k * RESULT_STRIDE + 1]
    if (typeof packed[k * RESULT_STRIDE] !== 'number' || (status !== OK && status !== FAILED && status !== SKIPPED)) return undefined
  }
  const busyMs = packed.pop() as number
  return { results: packed, busyMs }
}
