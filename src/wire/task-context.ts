// Worker-side state of the task being run, read by the public helpers in
// src/worker.ts. Kept apart so the worker entry and user task modules share
// one instance of it.

import { interrupted } from './slots.js'
import type { Channel } from './channel.js'
import { decodeThrown, type EncodedValue } from './error-codec.js'
import { ProgressReports } from './progress.js'
import type { FromWorker } from './protocol.js'

interface Running {
  slot: number
  id: number
  controller?: AbortController
  reason?: EncodedValue
  /** Made at its first report: a task that never reports costs nothing. */
  progress?: ProgressReports
}

let slots: Int32Array | undefined
let current: Running | undefined
export let workerName: string | undefined
let post: ((message: FromWorker) => void) | undefined
let channel: Channel = 'clone'

/**
 * `states` holds the slot states this worker reads to see an interrupt (see
 * slots.ts); progress reports go out by `send`, carried as `via` carries them.
 */
export function initContext(name: string, states: Int32Array, send: (message: FromWorker) => void, via: Channel): void {
  workerName = name
  slots = states
  post = send
  channel = via
}

/**
 * Interrupts for tasks this worker holds but has not started: a child gets
 * its tasks ahead of time, already claimed, so an interrupt can overtake the
 * start. The task starts interrupted.
 */
const early = new Map<number, EncodedValue>()

export function interruptOnStart(slot: number, reason: EncodedValue): void {
  early.set(slot, reason)
}

export function interruptedOnStart(slot: number): boolean {
  return early.has(slot)
}

export function enterTask(slot: number, id: number): void {
  const reason = early.get(slot)
  if (reason === undefined) current = { slot, id }
  else {
    early.delete(slot)
    current = { slot, id, reason }
  }
}

/** The task ended: its last progress value held back goes now, before its result. */
export function leaveTask(): void {
  current?.progress?.flush()
  current = undefined
}

export function reportProgress(value: unknown): void {
  if (!current || !post) throw new Error('reportProgress() is only available inside a task running in a pool worker')
  ;(current.progress ??= new ProgressReports(current.id, post, channel)).report(value)
}

/** The pool asked the task in `slot` to stop. */
export function interrupt(slot: number, reason: EncodedValue): void {
  if (current?.slot !== slot) return
  current.reason = reason
  current.controller?.abort(decodeThrown(reason))
}

export function currentSignal(): AbortSignal {
  if (!current) throw new Error('taskSignal() is only available inside a task running in a pool worker')
  current.controller ??= new AbortController()
  if (current.reason && !current.controller.signal.aborted) current.controller.abort(decodeThrown(current.reason))
  return current.controller.signal
}

export function throwIfInterrupted(): void {
  if (!current || !slots) return
  if (!interrupted(slots, current.slot)) return
  const signal = currentSignal()
  if (!signal.aborted) current.controller!.abort(new Error('the task was interrupted'))
  throw signal.reason
}
