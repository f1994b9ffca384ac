// The relay thread of a ProcessPoolExecutor: it owns the child processes.
// A child's messages arrive on an event loop; the pool thread's loop may be
// stopped in a blocking result(), so this thread's loop receives them,
// forwards them on a port and rings the pool thread's doorbell.
//
// It also hands out the tasks. The pool sends each child's tasks here ahead
// of time; this thread keeps one back while the child is busy, and claims
// each task (PENDING→RUNNING in the shared slots) as it sends it on, so a
// task stays cancellable until a child is free to run it, and a child never
// waits for the pool thread between tasks.
//
// A child that exits says which task it was running, after its last results;
// every other task sent to it never started (it is queued in the child, or
// still in the channel), so this thread flips it back RUNNING→PENDING and the
// pool runs it elsewhere. A child that dies without a word (a signal, out of
// memory) fails every task it was sent and had not answered: which of them ran
// cannot be known.

import { fork, spawn as spawnProcess, type ChildProcess } from 'node:child_process'
import { inspect } from 'node:util'
import { workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import { longTimeout } from '../src/concurrent/long-timer.js'
import { encodeThrown } from '../src/wire/error-codec.js'
import {
  copyTask, dropTasks, FAILED, packTasks, pushResult, resultCount, SKIPPED, taskArgs, taskCount, taskId, taskSlot, type TaskBatch,
} from '../src/wire/batches.js'
import { readFromChild } from '../src/wire/child-channel.js'
import type { FromRelay, RelayData, ToChild, ToRelay, ToWorker } from '../src/wire/protocol.js'
import { claim, giveBack as giveBackSlot } from '../src/wire/slots.js'

const { port, doorbell, slots: slotBuffer, entry, fork: forkOptions } = workerData as RelayData
const bell = new Int32Array(doorbell)
const slots = new Int32Array(slotBuffer)

interface Child {
  process: ChildProcess
  /** Tasks from the pool not yet sent on, as in a TaskBatch. */
  held: unknown[]
  /** Function definitions to send with the next tasks. */
  defs: NonNullable<TaskBatch['defs']>
  /** Tasks sent to the child whose results have not come back, in order: id, slot, repeated (results come back in that order). */
  sent: number[]
  /** Where the unanswered ones start in `sent`. */
  answered: number
  /** It said it exits: nothing more is sent to it. */
  leaving: boolean
}

const children = new Map<number, Child>()
let closing = false

// No child may outlive this process, even one that never runs JavaScript
// (stopped at --inspect-brk), so its own parent watch never starts. A shell
// (builtins only, it never forks) holds the read end of a pipe only this
// process writes: however this process ends, the pipe closes, and the shell
// kills the children still listed. One per pool; where there is no /bin/sh
// (Windows), the children's parent watch thread is all there is.
const WATCHDOG = `pids=' '
while read -r line; do
  case $line in
    +*) pids="$pids\${line#+} " ;;
    -*) p=\${line#-}; case $pids in *" $p "*) pids="\${pids%% $p *} \${pids#* $p }" ;; esac ;;
  esac
done
[ "$pids" = ' ' ] || kill -9 $pids 2>/dev/null`
let watchdog = process.platform === 'win32' ? undefined : startWatchdog()

/** The watchdog, unless it cannot start (no shell, or the permission model): then the parent watch threads remain. */
function startWatchdog(): ChildProcess | undefined {
  let shell: ChildProcess
  try {
    shell = spawnProcess('/bin/sh', ['-c', WATCHDOG], { stdio: ['pipe', 'ignore', 'ignore'], env: {} })
  } catch {
    return undefined
  }
  shell.on('error', () => (watchdog = undefined))
  shell.stdin!.on('error', () => {})
  return shell
}

function watch(pid: number | undefined, on: boolean): void {
  if (pid !== undefined && watchdog?.stdin?.writable) watchdog.stdin.write(`${on ? '+' : '-'}${pid}\n`)
}

function post(message: FromRelay): void {
  port.postMessage(message)
  ring(bell)
}

port.on('message', (message: ToRelay) => {
  if ('spawn' in message) spawn(message.spawn, { init: message.init })
  else if ('to' in message) receive(message.to, message.message)
  else if ('stop' in message) stop(message.stop, message.kill)
  else close(message.close)
})

function spawn(id: number, init: ToChild): void {
  let child: ChildProcess
  try {
    child = fork(new URL(entry), [], { serialization: forkOptions.serialization, execArgv: forkOptions.execArgv, env: forkOptions.env })
  } catch (error) {
    // Refused before it started (bad options, the permission model): the pool hears of it as a failed start.
    return gone(id, 127, null, error as Error)
  }
  watch(child.pid, true)
  children.set(id, { process: child, held: [], defs: [], sent: [], answered: 0, leaving: false })
  child.on('message', (packed: unknown) => {
    const message = readFromChild(packed)
    if (!message) return // not the child entry's: a task's or a preload's (child-channel.ts)
    const state = children.get(id)
    if (state && 'results' in message) {
      answer(state, resultCount(message.results))
      pump(id, state)
    } else if (state && 'event' in message && message.event === 'exit') {
      giveBack(state, message.running)
    }
    post({ from: id, message })
  })
  // A failed spawn has no 'exit' event: report it as one.
  child.on('error', (error) => child.pid === undefined && exited(id, 127, null, error))
  child.on('exit', (code, signal) => exited(id, code, signal))
  child.send(init)
}

function exited(id: number, code: number | null, signal: string | null, error?: Error): void {
  const child = children.get(id)
  // Tasks still held here were never claimed: the pool takes them back.
  if (!child) return
  children.delete(id)
  watch(child.process.pid, false)
  gone(id, code, signal, error)
}

function gone(id: number, code: number | null, signal: string | null, error?: Error): void {
  if (error) post({ from: id, message: { event: 'exit', code: code ?? 1, error: encodeThrown(error, 'clone') } })
  post({ exit: id, code, signal })
  if (closing && children.size === 0) closed()
}

/** Every child is gone: let the watchdog go too (reaped here, not left a zombie), then tell the pool. */
function closed(): void {
  const shell = watchdog
  if (!shell || shell.exitCode !== null || shell.signalCode !== null) return post({ closed: true })
  let done = false
  const finish = (): void => {
    if (!done) post({ closed: true })
    done = true
  }
  shell.once('exit', finish).once('error', finish)
  shell.stdin!.end()
}

function answer(state: Child, count: number): void {
  state.answered += count * 2
  if (state.answered === state.sent.length) state.sent.length = state.answered = 0
}

function unanswered(state: Child): number {
  return (state.sent.length - state.answered) / 2
}

/** The child goes: every task it was sent but did not start goes back to PENDING, for the pool to take back. */
function giveBack(state: Child, running: number | undefined): void {
  state.leaving = true
  const { sent } = state
  for (let i = state.answered; i < sent.length; i += 2) {
    if (sent[i] !== running) giveBackSlot(slots, sent[i + 1]!)
  }
}

function receive(id: number, message: ToWorker): void {
  const state = children.get(id)
  if (!state) return // it is gone; the pool hears of it from its 'exit'
  if (!('tasks' in message)) return send(id, state, message)
  state.defs.push(...(message.defs ?? []))
  state.held.push(...message.tasks)
  pump(id, state)
}

/** Sends on every held task but one while the child is busy, claiming each; reports those cancelled meanwhile. */
function pump(id: number, state: Child): void {
  // Held tasks of a child that goes stay PENDING: the pool takes them back.
  if (state.leaving || !state.process.connected) return
  const { held } = state
  const tasks: unknown[] = []
  const skipped: unknown[] = []
  const busy = unanswered(state) > 0
  const count = taskCount(held)
  let k = 0
  for (; k < count && ((!busy && tasks.length === 0) || count - k > 1); k++) {
    if (claim(slots, taskSlot(held, k))) copyTask(held, k, tasks)
    else pushResult(skipped, taskId(held, k), SKIPPED, undefined)
  }
  dropTasks(held, k)
  if (skipped.length > 0) post({ from: id, message: { results: skipped, busyMs: 0 } })
  if (tasks.length === 0) return
  const defs = state.defs.splice(0)
  send(id, state, { ...(defs.length > 0 ? { defs } : {}), tasks })
}

function send(id: number, state: Child, message: ToWorker): void {
  if (!state.process.connected) return
  const batch = 'tasks' in message ? message : undefined
  try {
    state.process.send((batch ? packTasks(batch) : message) satisfies ToChild)
  } catch (error) {
    // An interrupt the channel refuses is dropped: the pool's grace period still stops the task.
    if (!batch) return
    return sendEach(id, state, batch, error)
  }
  if (batch) noteSent(state, batch.tasks)
}

function noteSent(state: Child, tasks: unknown[]): void {
  for (let k = 0; k < taskCount(tasks); k++) state.sent.push(taskId(tasks, k), taskSlot(tasks, k))
}

/**
 * A batch the child's serialization refused (the pool thread's clone accepted
 * it, but IPC is stricter, e.g. for a SharedArrayBuffer): send its tasks one
 * by one, and fail those that still do not go.
 */
function sendEach(id: number, state: Child, batch: TaskBatch, batchError: unknown): void {
  const results: unknown[] = []
  // The definitions are plain data; later tasks need them even if none of these go.
  if (batch.defs) state.process.send({ defs: batch.defs, tasks: [] } satisfies ToChild)
  for (let k = 0; k < taskCount(batch.tasks); k++) {
    const task: unknown[] = []
    copyTask(batch.tasks, k, task)
    try {
      state.process.send(packTasks({ tasks: task }) satisfies ToChild)
      noteSent(state, task)
    } catch (error) {
      const args = inspect(taskArgs(task, 0), { depth: 1, breakLength: Infinity })
      const reason = new TypeError(`the task's arguments cannot be sent to a child process (${args}): ${(error as Error).message}`, { cause: error ?? batchError })
      pushResult(results, taskId(task, 0), FAILED, encodeThrown(reason, 'clone'))
    }
  }
  if (results.length === 0) return
  post({ from: id, message: { results, busyMs: 0 } })
  pump(id, state)
}

function stop(id: number, kill: boolean | 'SIGTERM'): void {
  const child = children.get(id)?.process
  if (!child) return
  if (kill) child.kill(kill === true ? 'SIGKILL' : kill)
  else if (child.connected) child.disconnect() // the child exits once its channel closes
}

function close(graceMs: number): void {
  closing = true
  if (children.size === 0) return closed()
  for (const id of children.keys()) stop(id, false)
  longTimeout(() => {
    for (const id of children.keys()) stop(id, true)
  }, graceMs)?.unref()
}
