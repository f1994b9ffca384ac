// The entry of every ThreadPoolExecutor worker: tasks arrive on its port and
// are claimed in the shared slots; results go back on the port, ringing the
// pool thread's doorbell so a blocked result() wakes.

import { receiveMessageOnPort, workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import { encodeThrown } from '../src/wire/error-codec.js'
import type { TaskBatch } from '../src/wire/batches.js'
import type { FromWorker, ThreadWorkerData, ToWorker } from '../src/wire/protocol.js'
import { claim } from '../src/wire/slots.js'
import { initContext, interrupt } from '../src/wire/task-context.js'
import { grant } from './stream-runner.js'
import { initialize, taskRunner } from './task-runner.js'

const { name, port, life, doorbell, slots: slotBuffer, initializer, initargs } = workerData as ThreadWorkerData
const bell = new Int32Array(doorbell)
const slots = new Int32Array(slotBuffer)
let lastError: unknown

// Kept open (and unref'd) for as long as this thread lives: see thread-watch.ts.
life.unref()

function post(message: FromWorker): void {
  port.postMessage(message)
  ring(bell)
}

initContext(name, slots, post, 'clone')

// A throw outside any task, or process.exit(), ends this thread; send the
// results it has (tasks it finished must not be reported lost), then say so
// through the doorbell, since the pool thread may be blocked in result().
process.on('uncaughtExceptionMonitor', (error) => (lastError = error))
process.on('exit', (code) => {
  try {
    runner.flush()
    post({ event: 'exit', code, ...(lastError === undefined ? {} : { error: encodeThrown(lastError, 'clone') }) })
  } catch {
    // The port is already closed: the pool learns of the exit from the Worker's 'exit' event.
  }
})

const runner = taskRunner({
  claim: (slot) => claim(slots, slot),
  post,
  pull: () => {
    // An interrupt or a stream's credit is for the running task, which is not running while the queue is pulled.
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      if ('tasks' in (m.message as ToWorker)) return m.message as TaskBatch
    }
    return undefined
  },
  channel: 'clone',
})

if (await initialize(initializer, initargs, post, 'clone')) {
  port.on('message', (message: ToWorker) => {
    if ('interrupt' in message) interrupt(message.interrupt, message.reason)
    else if ('stream' in message) grant(message.stream, message.credit)
    else runner.receive(message)
  })
  post({ event: 'ready' })
}
