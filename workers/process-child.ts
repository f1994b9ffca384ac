// The entry of every ProcessPoolExecutor child: its first message says who it
// is, the rest are task batches and interrupts, all over the IPC channel the
// relay thread holds. The relay claimed each task as it sent it, so the child
// runs all it receives.

import { Worker } from 'node:worker_threads'
import type { Channel } from '../src/wire/channel.js'
import { encodeThrown } from '../src/wire/error-codec.js'
import { unpackTasks } from '../src/wire/batches.js'
import { packFromChild } from '../src/wire/child-channel.js'
import type { ChildInit, FromWorker, ToChild } from '../src/wire/protocol.js'
import { interrupt as interruptSlot, startState } from '../src/wire/slots.js'
import { initContext, interrupt, interruptedOnStart, interruptOnStart } from '../src/wire/task-context.js'
import { keepChannel } from './keep-channel.js'
import { grant } from './stream-runner.js'
import { initialize, taskRunner, type Runner } from './task-runner.js'

if (!process.send) throw new Error('process-child is the entry of ProcessPoolExecutor children; it runs under child_process.fork')
const send = keepChannel()

function post(message: FromWorker): void {
  send(packFromChild(message))
}

// Nothing here may keep the child running once the pool is gone: not a
// closed channel (the pool retired it, or its process ended), nor a parent
// that died without closing it while a task holds this thread.
process.on('disconnect', () => process.exit(0))
new Worker(new URL('./parent-watch.js', import.meta.url), { workerData: process.ppid }).unref()

// How this child's messages travel: JSON, until the pool says (a throw can come first).
let channel: Channel = 'json'
let states: Int32Array | undefined
let runner: Runner | undefined
let run: ((message: Exclude<ToChild, { init: ChildInit }>) => void) | undefined
const early: Array<Exclude<ToChild, { init: ChildInit }>> = []
let left = false

/**
 * Before the child goes: the results it has, then which task it was running
 * and why it goes, so its relay can give every other task it sent back to
 * the pool (workers/process-relay.ts). In an 'exit' handler process.send()
 * writes synchronously as far as the channel's buffer takes it (a few
 * hundred KB); what does not fit is lost with the child.
 */
function leave(code: number, error?: unknown, then?: () => void): void {
  if (left || !process.connected) return then?.()
  left = true
  runner?.flush()
  const running = runner?.current()
  const message: FromWorker = { event: 'exit', code, ...(running === undefined ? {} : { running }), ...(error === undefined ? {} : { error: encodeThrown(error, channel) }) }
  send(packFromChild(message), () => then?.())
}

// process.exit() ends the child at once, from a task or not.
process.on('exit', (code) => leave(code))
// A throw outside any task ends the child; tell the pool what it was first.
process.on('uncaughtException', (error) => {
  try {
    leave(1, error, () => process.exit(1))
  } catch {
    process.exit(1)
  }
})

process.on('message', (message: ToChild) => {
  if ('init' in message) return void start(message.init)
  if (!run) return void early.push(message)
  run(message)
})

async function start(init: ChildInit): Promise<void> {
  channel = init.serialization
  states = new Int32Array(init.slotCount)
  initContext(init.name, states, post, channel)
  runner = taskRunner({
    // The relay claimed it in the pool's slots; this is the child's own copy.
    claim: (slot) => {
      startState(states!, slot, interruptedOnStart(slot))
      return true
    },
    post,
    pull: () => undefined,
    channel,
  })
  if (!(await initialize(init.initializer, init.initargs, post, channel))) return
  post({ event: 'ready' })
  run = (message) => {
    if ('stream' in message) return grant(message.stream, message.credit)
    if (!('interrupt' in message)) return runner!.receive(unpackTasks(message))
    if (runner!.waiting(message.interrupt)) return interruptOnStart(message.interrupt, message.reason)
    interruptSlot(states!, message.interrupt)
    interrupt(message.interrupt, message.reason)
  }
  for (const message of early.splice(0)) run(message)
}
