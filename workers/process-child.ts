// The entry of every ProcessPoolExecutor child: its first message says who it
// is, the rest are task batches and interrupts, all over the IPC channel the
// relay thread holds. The relay claimed each task as it sent it, so the child
// runs all it receives.

import { serialize } from 'node:v8'
import { Worker } from 'node:worker_threads'
import { encodeThrown } from '../src/wire/error-codec.js'
import { INTERRUPTED, RUNNING, type ChildInit, type FromWorker, type ToChild, type ToWorker } from '../src/wire/protocol.js'
import { initContext, interrupt } from '../src/wire/task-context.js'
import { initialize, taskRunner } from './task-runner.js'

if (!process.send) throw new Error('process-child is the entry of ProcessPoolExecutor children; it runs under child_process.fork')
const send = process.send.bind(process)

function post(message: FromWorker): void {
  send(message)
}

// Nothing here may keep the child running once the pool is gone: not a
// closed channel (the pool retired it, or its process ended), nor a parent
// that died without closing it while a task holds this thread.
process.on('disconnect', () => process.exit(0))
new Worker(new URL('./parent-watch.js', import.meta.url), { workerData: process.ppid }).unref()

// A throw outside any task ends the child; tell the pool what it was first.
process.on('uncaughtException', (error) => {
  try {
    send({ event: 'exit', code: 1, error: encodeThrown(error) } satisfies FromWorker, () => process.exit(1))
  } catch {
    process.exit(1)
  }
})

let states: Int32Array | undefined
let run: ((message: ToWorker) => void) | undefined
const early: ToWorker[] = []

process.on('message', (message: ToChild) => {
  if ('init' in message) return void start(message.init)
  if (!run) return void early.push(message)
  run(message)
})

async function start(init: ChildInit): Promise<void> {
  states = new Int32Array(init.slotCount)
  initContext(init.name, states)
  const runTasks = taskRunner({
    claim: (slot) => {
      Atomics.store(states!, slot, RUNNING)
      return true
    },
    post,
    pull: () => undefined,
    checkSendable: (value) => (init.serialization === 'json' ? JSON.stringify(value) : serialize(value)),
  })
  if (!(await initialize(init.initializer, init.initargs, post))) return
  post({ event: 'ready' })
  run = (message) => {
    if (!('interrupt' in message)) return runTasks(message)
    Atomics.compareExchange(states!, message.interrupt, RUNNING, INTERRUPTED)
    interrupt(message.interrupt, message.reason)
  }
  for (const message of early.splice(0)) run(message)
}
