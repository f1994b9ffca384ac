// The task slots: one Int32 per task handed to a worker, in a
// SharedArrayBuffer shared by a pool and all its workers (and its relay
// thread), so either side can decide a task's fate without a message. Every
// change of a slot's state is one of the functions below. Each transition
// that two sides can race for is one compareExchange, so exactly one wins;
// take() re-arms a slot no worker holds, and startState() writes a child's
// private copy.
//
//   take (pool: a free slot, for the next job)
//      │
//      ▼      claim (worker thread, or relay)             interrupt (pool)
//   PENDING ─────────────────────────────────► RUNNING ─────────────────► INTERRUPTED
//      │ ▲                                        │
//      │ └────────────────────────────────────────┘
//      │     giveBack (relay: its child went without starting it)
//      │
//      └──► CANCELLED
//           cancel (pool: cancel(), or taking back a job from a worker that went)
//
// A slot is the pool's until take() and after release(); between the two its
// task's worker (or relay) may touch it, so the pool releases it only once
// the worker has answered for the task or has really stopped.
//
// A child process shares no memory: it keeps a private copy of the states of
// the tasks it runs (startState below), read by checkInterrupt().

export const PENDING = 0
export const RUNNING = 1
export const CANCELLED = 2
/** RUNNING, and asked to stop: checkInterrupt() throws, taskSignal() aborts. */
export const INTERRUPTED = 3

/**
 * The most jobs one worker holds at once: its window (pool-member.ts) and
 * its pinned calls alike. The slot capacity derives from it.
 */
export const MAX_JOBS_PER_WORKER = 512

/**
 * The slots a pool of `maxWorkers` needs: enough for each worker's jobs, and
 * as many again for workers that are going but may still touch theirs.
 */
export function slotCapacity(maxWorkers: number): number {
  return maxWorkers * MAX_JOBS_PER_WORKER * 2
}

/** The worker (or relay) takes the task to run it: PENDING→RUNNING; false if the pool cancelled it first. */
export function claim(states: Int32Array, slot: number): boolean {
  return Atomics.compareExchange(states, slot, PENDING, RUNNING) === PENDING
}

/** The pool takes back a task no worker has started (to cancel it, or to run it elsewhere): PENDING→CANCELLED; false if one started it. */
export function cancel(states: Int32Array, slot: number): boolean {
  return Atomics.compareExchange(states, slot, PENDING, CANCELLED) === PENDING
}

/** Asks the running task to stop: RUNNING→INTERRUPTED; false if it is not running (or was asked already). */
export function interrupt(states: Int32Array, slot: number): boolean {
  return Atomics.compareExchange(states, slot, RUNNING, INTERRUPTED) === RUNNING
}

/** The relay claimed a task for a child that went without starting it: RUNNING→PENDING, for the pool to take back. */
export function giveBack(states: Int32Array, slot: number): boolean {
  return Atomics.compareExchange(states, slot, RUNNING, PENDING) === RUNNING
}

/** Whether a worker started the task (it may be asked to stop). */
export function started(states: Int32Array, slot: number): boolean {
  const state = Atomics.load(states, slot)
  return state === RUNNING || state === INTERRUPTED
}

export function interrupted(states: Int32Array, slot: number): boolean {
  return Atomics.load(states, slot) === INTERRUPTED
}

/** A child's private copy, as it starts a task its relay claimed: RUNNING, or INTERRUPTED if the interrupt came first. */
export function startState(states: Int32Array, slot: number, interruptedAlready: boolean): void {
  Atomics.store(states, slot, interruptedAlready ? INTERRUPTED : RUNNING)
}

/**
 * A pool's slots: a fixed set (slotCapacity) that the pool hands out one a
 * job and gets back once the job's worker is done with it. The pool takes
 * one only when one is available.
 */
export class TaskSlots {
  readonly buffer: SharedArrayBuffer
  readonly states: Int32Array
  readonly #free: number[]

  constructor(maxWorkers: number) {
    const capacity = slotCapacity(maxWorkers)
    this.buffer = new SharedArrayBuffer(capacity * 4)
    this.states = new Int32Array(this.buffer)
    this.#free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i)
  }

  get available(): number {
    return this.#free.length
  }

  /** A free slot, set PENDING for the task about to be sent. */
  take(): number {
    const slot = this.#free.pop()
    if (slot === undefined) throw new Error('no free task slot: the pool takes one only when one is available')
    Atomics.store(this.states, slot, PENDING)
    return slot
  }

  release(slot: number): void {
    this.#free.push(slot)
  }
}
