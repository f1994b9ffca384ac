// The concurrent Future: Python's state machine, and the one place where a
// future's state changes.
//
//   PENDING ──(worker claims it)──► RUNNING ──setResult/setException──► FINISHED
//      │  └────────────── setResult/setException ─────────────────────────▲
//      └─cancel()─► CANCELLED
//
// A future run by a pool is claimed by its worker through shared memory (see
// wire/slots.ts), so RUNNING is read from there, and cancel() races
// the worker atomically: whichever flips the slot first wins.

import { inspect } from 'node:util'
import { blockUntil } from './blocking.js'
import { CancelledError, InvalidStateError, TimeoutError } from './errors.js'
import { Listeners, type Listener } from './listeners.js'
import { outcomePromise, type Outcome } from './outcome.js'
import { endedProgress, ProgressListeners, type ProgressCallback } from './progress.js'
import { checkTimeout } from './validate.js'

/** The states of a concurrent Future, as in CPython: PENDING, RUNNING, then CANCELLED or FINISHED. */
export type FutureState = 'PENDING' | 'RUNNING' | 'CANCELLED' | 'FINISHED'

/** A worker-side claim on the task behind a future (shared memory). */
export interface Claim {
  running(): boolean
  /** Atomically marks the task cancelled; false when the worker already started it. */
  tryCancel(): boolean
  /** The future is done, whoever settled it (the executor, its user, a cancel): called once. */
  settled?(): void
}

/** A method type (Listener), so Future<T> stays covariant (a Future<number> is a Future<unknown>). */
export type DoneCallback<T> = Listener<Future<T>>

let nextId = 1

/**
 * The result of a task submitted to an executor: `result(timeoutMs)` blocks for it, `await` waits without blocking.
 * `P` is what the task reports with `reportProgress()` (see onProgress()).
 *
 * @example
 * const f = pool.submit(tasks.fib, 30)
 * f.result(5_000) // blocks up to 5 s
 */
export class Future<T = unknown, P = unknown> implements PromiseLike<T> {
  readonly #id = nextId++
  #state: 'PENDING' | 'RUNNING' | 'CANCELLED' | 'FINISHED' = 'PENDING'
  #outcome: Outcome<T> | undefined
  #claim: Claim | undefined
  // Made on first use: most futures never need it. Its watchers (executors, wait, asCompleted) run before user callbacks.
  #listeners: Listeners<Future<T>> | undefined
  #promise: Promise<T> | undefined
  // Created by the first onProgress() or progress(): until then reports are dropped.
  #progress: ProgressListeners<P> | undefined

  get state(): FutureState {
    if (this.#state === 'PENDING' && this.#claim?.running()) return 'RUNNING'
    return this.#state
  }

  cancel(): boolean {
    const state = this.state
    if (state === 'CANCELLED') return true
    if (state !== 'PENDING') return false
    if (this.#claim && !this.#claim.tryCancel()) return false
    this.#state = 'CANCELLED'
    this.#settle()
    return true
  }

  cancelled(): boolean {
    return this.#state === 'CANCELLED'
  }

  running(): boolean {
    return this.state === 'RUNNING'
  }

  done(): boolean {
    return this.#state === 'CANCELLED' || this.#state === 'FINISHED'
  }

  /**
   * Blocks the calling thread until the future is done or `timeoutMs` passes,
   * then returns the result, or throws the task's error, CancelledError or
   * TimeoutError.
   */
  result(timeoutMs?: number): T {
    const outcome = this.#wait(timeoutMs, 'result()')
    if (outcome.ok) return outcome.value
    throw outcome.error
  }

  /** Like result(), but returns the task's error (undefined on success) instead of throwing it. */
  exception(timeoutMs?: number): unknown {
    const outcome = this.#wait(timeoutMs, 'exception()')
    if (this.#state === 'CANCELLED') throw (outcome as { error: unknown }).error
    return outcome.ok ? undefined : outcome.error
  }

  /** Calls `fn(this)` when the future is done: now if it already is. Callbacks run once, in order. */
  addDoneCallback(fn: DoneCallback<T>): void {
    if (typeof fn !== 'function') throw new TypeError(`addDoneCallback expects a function, got ${inspect(fn)}`)
    if (this.done()) runCallback(this, fn)
    else (this.#listeners ??= new Listeners()).addCallback(fn)
  }

  /**
   * Calls `fn(value)` for each progress value the task reports, in order, until
   * the future is done, never after. Called from the same drain as the result:
   * a thread blocked in result() sees them too, before result() returns.
   * Reports come coalesced (the newest value at most once a millisecond per task).
   * An exception in `fn` is printed, as a done callback's is. On a done future it does nothing.
   */
  onProgress(fn: ProgressCallback<P>): void {
    if (typeof fn !== 'function') throw new TypeError(`onProgress expects a function, got ${inspect(fn)}`)
    if (!this.done()) (this.#progress ??= new ProgressListeners()).add(fn)
  }

  /**
   * The task's progress values as an async iterator, from now on: it holds
   * only the newest value not yet taken (a slow consumer skips values), and
   * ends once the future is done, after yielding the value it still holds.
   */
  progress(): AsyncIterableIterator<P> {
    if (this.done()) return endedProgress()
    return (this.#progress ??= new ProgressListeners()).iterator()
  }

  /** @internal Executors: the task reported `value`; dropped once the future is done, or when nobody listens. */
  deliverProgress(value: P): void {
    if (this.#progress && !this.done()) this.#progress.emit(value, () => this.toString())
  }

  /** For executors: PENDING → RUNNING (true), or false when the future was cancelled. */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === 'CANCELLED') return false
    if (this.#state !== 'PENDING') throw new InvalidStateError(`Future in unexpected state: ${this.#state}: ${this.toString()}`)
    this.#state = 'RUNNING'
    return true
  }

  setResult(value: T): void {
    this.#finish({ ok: true, value })
  }

  setException(error: unknown): void {
    this.#finish({ ok: false, error })
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#promise ??= outcomePromise((done) => this.watch(done), () => this.#outcomeOrCancelled())
    return this.#promise.then(onFulfilled, onRejected)
  }

  toString(): string {
    const state = this.state.toLowerCase()
    const outcome = this.#outcome
    if (!outcome) return `Future#${this.#id}<${state}>`
    if (outcome.ok) return `Future#${this.#id}<${state} returned ${typeName(outcome.value)}>`
    return `Future#${this.#id}<${state} raised ${typeName(outcome.error)}>`
  }

  [inspect.custom](): string {
    return this.toString()
  }

  /** @internal Executors attach the shared-memory claim once the task is handed to a worker. */
  bindClaim(claim: Claim | undefined): void {
    this.#claim = claim
  }

  /** @internal Runs `fn(this)` once when the future is done (now, if it is), before user callbacks. */
  watch(fn: DoneCallback<T>): void {
    if (this.done()) fn(this)
    else (this.#listeners ??= new Listeners()).watch(fn)
  }

  /** @internal Removes a watcher added by watch(). */
  unwatch(fn: DoneCallback<T>): void {
    this.#listeners?.unwatch(fn)
  }

  #wait(timeoutMs: number | undefined, method: string): Outcome<T> {
    const timeout = checkTimeout(timeoutMs, `${method} timeoutMs`)
    if (!this.done()) {
      const deadline = performance.now() + timeout
      if (!blockUntil(() => this.done(), deadline, () => `result() of ${this.toString()}`)) {
        throw new TimeoutError()
      }
    }
    return this.#outcomeOrCancelled()
  }

  #outcomeOrCancelled(): Outcome<T> {
    return this.#outcome ?? { ok: false, error: new CancelledError() }
  }

  #finish(outcome: Outcome<T>): void {
    if (this.done()) throw new InvalidStateError(`${this.#state}: ${this.toString()}`)
    this.#outcome = outcome
    this.#state = 'FINISHED'
    this.#settle()
  }

  #settle(): void {
    const claim = this.#claim
    this.#claim = undefined
    claim?.settled?.()
    this.#progress?.end() // kept, emptied: deliverProgress() checks done() first
    this.#listeners?.settle(this, runCallback)
  }
}

function runCallback<T>(future: Future<T>, fn: DoneCallback<T>): void {
  try {
    fn(future)
  } catch (error) {
    console.error(`exception calling callback for ${future.toString()}`, error)
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object' || typeof value === 'function') {
    return (value as { constructor?: { name?: string } }).constructor?.name ?? 'Object'
  }
  return typeof value
}
