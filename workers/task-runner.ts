// Runs the task batches a pool sends, one task at a time, and sends the
// results back in batches. Shared by the thread worker and the child process
// entries, which differ only in how messages travel and how a task is claimed.

import { types } from 'node:util'
import { carry, type Channel } from '../src/wire/channel.js'
import { encodeThrown } from '../src/wire/error-codec.js'
import {
  CHUNK, FAILED, FLUSH_FIRST, OK, pushResult, REPORT_START, resultCount, resultPayload, resultStatus, setResult, SKIPPED, STREAM,
  taskArgs, taskCount, taskFlags, taskFn, taskId, taskSlot, type TaskBatch,
} from '../src/wire/batches.js'
import type { FromWorker } from '../src/wire/protocol.js'
import { enterTask, leaveTask } from '../src/wire/task-context.js'
import type { TaskSpec } from '../src/wire/task-spec.js'
import { loadTask } from './load-task.js'
import { flushStream, runStream } from './stream-runner.js'

type Fn = (...args: unknown[]) => unknown

export interface Transport {
  /** Takes the task in `slot` for this worker; false if the pool cancelled it first. */
  claim(slot: number): boolean
  post(message: FromWorker): void
  /** The next batch already delivered, if this transport can be read synchronously. */
  pull(): TaskBatch | undefined
  /** How messages travel back to the pool. */
  channel: Channel
}

export interface Runner {
  /** Takes a batch of tasks: they run after those already received. */
  receive(batch: TaskBatch): void
  /** Sends the results of the tasks finished so far, and the items of a running stream, now: the worker is about to exit. */
  flush(): void
  /** The id of the task started and not finished, if any. */
  current(): number | undefined
  /** Whether a task in `slot` was received and has not started yet. */
  waiting(slot: number): boolean
}

export function taskRunner(transport: Transport): Runner {
  const loading = new Map<number, Promise<Fn>>()
  const loaded = new Map<number, Fn>()
  /** Tasks received, as in a TaskBatch; `head` is the next to run. */
  const queue: unknown[] = []
  let head = 0
  let results: unknown[] = []
  let running = false
  let started = 0
  let current: number | undefined
  /** The slot of the task taken from the queue whose function is still loading. */
  let loadingSlot: number | undefined

  function receive(batch: TaskBatch): void {
    for (const [fnId, spec] of batch.defs ?? []) {
      const load = loadTask(spec)
      load.then((fn) => loaded.set(fnId, fn), () => {})
      loading.set(fnId, load)
    }
    for (const item of batch.tasks) queue.push(item)
    if (!running) void runQueue()
  }

  async function runQueue(): Promise<void> {
    running = true
    started = performance.now()
    for (;;) {
      if (head === taskCount(queue)) {
        queue.length = head = 0
        flush()
        const next = transport.pull()
        if (!next) break
        started = performance.now()
        receive(next)
        continue
      }
      const k = head++
      const id = taskId(queue, k)
      const slot = taskSlot(queue, k)
      const fnId = taskFn(queue, k)
      const args = taskArgs(queue, k)
      const flags = taskFlags(queue, k)
      // Load the function before claiming the task, so it stays cancellable while its module loads.
      let fn = loaded.get(fnId)
      let loadError: unknown
      if (!fn) {
        loadingSlot = slot
        await loading.get(fnId)!.then((f) => (fn = f), (e: unknown) => (loadError = e))
        loadingSlot = undefined
      }
      if (!transport.claim(slot)) {
        pushResult(results, id, SKIPPED, undefined)
        continue
      }
      if (flags & FLUSH_FIRST) flush()
      if (flags & REPORT_START) transport.post({ event: 'started', id })
      current = id
      enterTask(slot, id)
      try {
        if (!fn) throw loadError
        let value = flags & CHUNK ? (args as unknown[][]).map((a) => fn!(...a)) : flags & STREAM ? runStream(fn, args, id, transport.post, transport.channel) : fn(...args)
        if (flags & CHUNK && (value as unknown[]).some(isThenable)) value = await Promise.all(value as unknown[])
        else if (isThenable(value)) value = await value
        pushResult(results, id, OK, value)
      } catch (error) {
        pushResult(results, id, FAILED, encodeThrown(error, transport.channel))
      } finally {
        current = undefined
        leaveTask()
      }
      // Long tasks report as they finish; short ones share a message.
      if (performance.now() - started > 1) {
        flush()
        started = performance.now()
      }
    }
    running = false
  }

  function flush(): void {
    if (results.length === 0) return
    const busyMs = performance.now() - started
    const batch = results
    results = []
    try {
      transport.post({ results: batch, busyMs })
    } catch {
      transport.post({ results: failUnsendable(batch), busyMs })
    }
  }

  /** A result that cannot be sent fails only its own task. */
  function failUnsendable(batch: unknown[]): unknown[] {
    for (let k = 0; k < resultCount(batch); k++) {
      if (resultStatus(batch, k) !== OK) continue
      try {
        setResult(batch, k, OK, carry(resultPayload(batch, k), transport.channel)) // the copy, so the second post cannot fail on it
      } catch (error) {
        const hint = types.isGeneratorObject(resultPayload(batch, k)) ? ' (it is a generator: run the task with stream() to receive its items)' : ''
        setResult(batch, k, FAILED, encodeThrown(new TypeError(`the task's result could not be sent back to the pool${hint}: ${(error as Error).message}`, { cause: error }), transport.channel))
      }
    }
    return batch
  }

  function waiting(slot: number): boolean {
    if (slot === loadingSlot) return true
    for (let k = head; k < taskCount(queue); k++) if (taskSlot(queue, k) === slot) return true
    return false
  }

  // As the worker exits, a running stream's items go first: they came before its end.
  const flushAll = (): void => {
    flushStream()
    flush()
  }
  return { receive, flush: flushAll, current: () => current, waiting }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

/** Runs the initializer, if any; false (after reporting it) if it failed. */
export async function initialize(initializer: TaskSpec | undefined, initargs: unknown[], post: (message: FromWorker) => void, channel: Channel): Promise<boolean> {
  if (!initializer) return true
  try {
    const fn = await loadTask(initializer)
    await fn(...initargs)
    return true
  } catch (error) {
    post({ event: 'init-failed', error: encodeThrown(error, channel) })
    return false
  }
}
