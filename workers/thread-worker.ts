// The entry of every ThreadPoolExecutor worker: runs the batches of tasks the
// pool posts on its port, one task at a time, and posts the results back in
// batches, ringing the pool thread's doorbell so a blocked result() wakes.

import { receiveMessageOnPort, workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import { encodeThrown, type EncodedValue } from '../src/wire/error-codec.js'
import {
  CHUNK, FAILED, OK, PENDING, REPORT_START, RUNNING, SKIPPED,
  type FromWorker, type ThreadWorkerData, type ToWorker,
} from '../src/wire/protocol.js'
import { enterTask, initContext, interrupt, leaveTask } from '../src/wire/task-context.js'
import { loadTask } from './load-task.js'

const { name, port, doorbell, slots: slotBuffer, initializer, initargs } = workerData as ThreadWorkerData
const bell = new Int32Array(doorbell)
const slots = new Int32Array(slotBuffer)
type Fn = (...args: unknown[]) => unknown
const loading = new Map<number, Promise<Fn>>()
const loaded = new Map<number, Fn>()
const queue: unknown[] = []
let head = 0
let results: unknown[] = []
let busyMs = 0
let running = false
let lastError: unknown

initContext(name, slotBuffer)

function post(message: FromWorker): void {
  port.postMessage(message)
  ring(bell)
}

// A throw outside any task, or process.exit(), ends this thread; say so
// through the doorbell, since the pool thread may be blocked in result().
process.on('uncaughtExceptionMonitor', (error) => (lastError = error))
process.on('exit', (code) => {
  try {
    post({ event: 'exit', code, ...(lastError === undefined ? {} : { error: encodeThrown(lastError) }) })
  } catch {
    // The port is already closed: the pool learns of the exit from the Worker's 'exit' event.
  }
})

function receive(message: ToWorker): void {
  if ('interrupt' in message) return interrupt(message.interrupt, message.reason)
  for (const [fnId, spec] of message.defs ?? []) {
    const load = loadTask(spec)
    load.then((fn) => loaded.set(fnId, fn), () => {})
    loading.set(fnId, load)
  }
  for (const item of message.tasks) queue.push(item)
  if (!running) void runQueue()
}

async function runQueue(): Promise<void> {
  running = true
  let started = performance.now()
  for (;;) {
    if (head === queue.length) {
      queue.length = head = 0
      flush(started)
      const next = receiveMessageOnPort(port)
      if (!next) break
      started = performance.now()
      receive(next.message as ToWorker)
      continue
    }
    const id = queue[head++] as number
    const slot = queue[head++] as number
    const fnId = queue[head++] as number
    const args = queue[head++] as unknown[]
    const flags = queue[head++] as number
    // Load the function before claiming the task, so it stays cancellable while its module loads.
    let fn = loaded.get(fnId)
    let loadError: unknown
    if (!fn) await loading.get(fnId)!.then((f) => (fn = f), (e: unknown) => (loadError = e))
    if (Atomics.compareExchange(slots, slot, PENDING, RUNNING) !== PENDING) {
      results.push(id, SKIPPED, undefined)
      continue
    }
    if (flags & REPORT_START) post({ event: 'started', id })
    enterTask(slot)
    try {
      if (!fn) throw loadError
      let value = flags & CHUNK ? (args as unknown[][]).map((a) => fn!(...a)) : fn(...args)
      if (flags & CHUNK && (value as unknown[]).some(isThenable)) value = await Promise.all(value as unknown[])
      else if (isThenable(value)) value = await value
      results.push(id, OK, value)
    } catch (error) {
      results.push(id, FAILED, encodeThrown(error))
    } finally {
      leaveTask()
    }
    // Long tasks report as they finish; short ones share a message.
    if (performance.now() - started > 1) {
      flush(started)
      started = performance.now()
    }
  }
  running = false
}

function flush(started: number): void {
  if (results.length === 0) return
  busyMs = performance.now() - started
  const batch = results
  results = []
  try {
    post({ results: batch, busyMs })
  } catch {
    post({ results: cloneEach(batch), busyMs })
  }
}

/** A result that cannot be cloned fails only its own task. */
function cloneEach(batch: unknown[]): unknown[] {
  for (let i = 0; i < batch.length; i += 3) {
    if (batch[i + 1] !== OK) continue
    try {
      structuredClone(batch[i + 2])
    } catch (error) {
      batch[i + 1] = FAILED
      batch[i + 2] = encodeThrown(new TypeError(`the task's result could not be sent back from the worker: ${(error as Error).message}`, { cause: error }))
    }
  }
  return batch
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

async function start(): Promise<void> {
  if (initializer) {
    try {
      const init = await loadTask(initializer)
      await init(...initargs)
    } catch (error) {
      const encoded: EncodedValue = encodeThrown(error)
      post({ event: 'init-failed', error: encoded })
      return
    }
  }
  port.on('message', receive)
}

void start()
