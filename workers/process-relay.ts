// The relay thread of a ProcessPoolExecutor: it owns the child processes.
// A child's messages arrive on an event loop; the pool thread's loop may be
// stopped in a blocking result(), so this thread's loop receives them,
// forwards them on a port and rings the pool thread's doorbell.

import { fork, type ChildProcess } from 'node:child_process'
import { inspect } from 'node:util'
import { workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import { encodeThrown } from '../src/wire/error-codec.js'
import { FAILED, type FromRelay, type FromWorker, type RelayData, type TaskBatch, type ToChild, type ToRelay } from '../src/wire/protocol.js'

const { port, doorbell, entry, fork: forkOptions } = workerData as RelayData
const bell = new Int32Array(doorbell)
const children = new Map<number, ChildProcess>()
let closing = false

function post(message: FromRelay): void {
  port.postMessage(message)
  ring(bell)
}

port.on('message', (message: ToRelay) => {
  if ('spawn' in message) spawn(message.spawn, { init: message.init })
  else if ('to' in message) send(message.to, message.message)
  else if ('stop' in message) stop(message.stop, message.kill)
  else close(message.close)
})

function spawn(id: number, init: ToChild): void {
  const child = fork(new URL(entry), [], {
    serialization: forkOptions.serialization,
    ...(forkOptions.execArgv ? { execArgv: forkOptions.execArgv } : {}),
    ...(forkOptions.env ? { env: forkOptions.env } : {}),
  })
  children.set(id, child)
  child.on('message', (message: FromWorker) => post({ from: id, message }))
  // A failed spawn has no 'exit' event: report it as one.
  child.on('error', (error) => child.pid === undefined && exited(id, 127, null, error))
  child.on('exit', (code, signal) => exited(id, code, signal))
  child.send(init)
}

function exited(id: number, code: number | null, signal: string | null, error?: Error): void {
  if (!children.delete(id)) return
  if (error) post({ from: id, message: { event: 'exit', code: code ?? 1, error: encodeThrown(error) } })
  post({ exit: id, code, signal })
  if (closing && children.size === 0) post({ closed: true })
}

function send(id: number, message: ToChild): void {
  const child = children.get(id)
  if (!child?.connected) return // it is gone; the pool hears of it from its 'exit'
  try {
    child.send(message)
  } catch (error) {
    if (!('tasks' in message)) throw error
    sendEach(id, child, message, error)
  }
}

/**
 * A batch the child's serialization refused (the pool thread's clone accepted
 * it, but IPC is stricter, e.g. for a SharedArrayBuffer): send its tasks one
 * by one, and fail those that still do not go.
 */
function sendEach(id: number, child: ChildProcess, batch: TaskBatch, batchError: unknown): void {
  const results: unknown[] = []
  for (let i = 0; i < batch.tasks.length; i += 5) {
    const task = batch.tasks.slice(i, i + 5)
    try {
      child.send({ ...(batch.defs ? { defs: batch.defs } : {}), tasks: task })
    } catch (error) {
      const args = inspect(task[3], { depth: 1, breakLength: Infinity })
      const reason = new TypeError(`the task's arguments cannot be sent to a child process (${args}): ${(error as Error).message}`, { cause: error ?? batchError })
      results.push(task[0], FAILED, encodeThrown(reason))
    }
  }
  if (results.length > 0) post({ from: id, message: { results, busyMs: 0 } })
}

function stop(id: number, kill: boolean): void {
  const child = children.get(id)
  if (!child) return
  if (kill) child.kill('SIGKILL')
  else if (child.connected) child.disconnect() // the child exits once its channel closes
}

function close(graceMs: number): void {
  closing = true
  if (children.size === 0) return post({ closed: true })
  for (const id of children.keys()) stop(id, false)
  setTimeout(() => {
    for (const id of children.keys()) stop(id, true)
  }, graceMs).unref()
}
