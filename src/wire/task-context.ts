// Worker-side state of the task being run, read by the public helpers in
// src/worker.ts. Kept apart so the worker entry and user task modules share
// one instance of it.

import { interrupted } from './slots.js'
import { decodeThrown, type EncodedValue } from './error-codec.js'

interface Running {
  slot: number
  controller?: AbortController
  reason?: EncodedValue
}

let slots: Int32Array | undefined
let current: Running | undefined
export let workerName: string | undefined

/** `states` holds the slot states this worker reads to see an interrupt (see slots.ts). */
export function initContext(name: string, states: Int32Array): void {
  workerName = name
  slots = states
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

export function enterTask(slot: number): void {
  const reason = early.get(slot)
  if (reason === undefined) current = { slot }
  else {
    early.delete(slot)
    current = { slot, reason }
  }
}

export function leaveTask(): void {
  current = undefined
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
