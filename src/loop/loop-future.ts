// LoopFuture: asyncio.Future for Node. It belongs to the event loop: it never
// blocks, its done callbacks are always scheduled (never run inside the call
// that settled it), and it is awaitable.
//
//   PENDING ──setResult/setException──► FINISHED
//      └──────────cancel(msg)─────────► CANCELLED

import { inspect } from 'node:util'
import { Listeners, type Listener } from '../concurrent/listeners.js'
import { outcomePromise, type Outcome } from '../concurrent/outcome.js'
import { CancelledError, InvalidStateError } from './errors.js'

/** The states of a LoopFuture, as asyncio's: PENDING, then CANCELLED or FINISHED. */
export type LoopFutureState = 'PENDING' | 'CANCELLED' | 'FINISHED'

/** A method type (Listener), so LoopFuture<T> stays covariant. */
export type LoopDoneCallback<T> = Listener<LoopFuture<T>>

/** An event-loop future (asyncio.Future): awaitable, cancellable, with done callbacks; it never blocks. */
export class LoopFuture<T = unknown> implements PromiseLike<T> {
  #state: LoopFutureState = 'PENDING'
  #outcome: Outcome<T> | undefined
  #cancelMessage: string | undefined
  // Its watchers (the bridge, gather, wait) run synchronously, before the scheduled callbacks.
  readonly #listeners = new Listeners<LoopFuture<T>>()
  #promise: Promise<T> | undefined

  get state(): LoopFutureState {
    return this.#state
  }

  done(): boolean {
    return this.#state !== 'PENDING'
  }

  cancelled(): boolean {
    return this.#state === 'CANCELLED'
  }

  /** Cancels a pending future; false if it is already done or cancelled. */
  cancel(message?: string): boolean {
    if (this.#state !== 'PENDING') return false
    this.#state = 'CANCELLED'
    this.#cancelMessage = message
    this.#listeners.settle(this, scheduleCallback)
    return true
  }

  /** The result; throws the future's error, CancelledError, or InvalidStateError if it is not done. */
  result(): T {
    const outcome = this.#outcomeOf('Result is not set.')
    if (outcome.ok) return outcome.value
    throw outcome.error
  }

  /** The error the future failed with, undefined if it succeeded; throws CancelledError or InvalidStateError. */
  exception(): unknown {
    const outcome = this.#outcomeOf('Exception is not set.')
    if (this.cancelled()) throw (outcome as { error: unknown }).error
    return outcome.ok ? undefined : outcome.error
  }

  setResult(value: T): void {
    this.#finish({ ok: true, value })
  }

  /** Sets the error; an Error class is instantiated, as asyncio does. */
  setException(error: unknown): void {
    const isClass = typeof error === 'function' && (error as { prototype?: unknown }).prototype instanceof Error
    this.#finish({ ok: false, error: isClass ? new (error as new () => Error)() : error })
  }

  /** Schedules `fn(this)` for when the future is done (as a microtask, in registration order). */
  addDoneCallback(fn: LoopDoneCallback<T>): void {
    if (typeof fn !== 'function') throw new TypeError(`addDoneCallback expects a function, got ${inspect(fn)}`)
    if (this.done()) scheduleCallback(this, fn)
    else this.#listeners.addCallback(fn)
  }

  /** Removes every registration of `fn` not yet scheduled; returns how many. */
  removeDoneCallback(fn: LoopDoneCallback<T>): number {
    return this.#listeners.removeCallback(fn)
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#promise ??= outcomePromise((done) => this.watch(done), () => this.#outcomeOf(''))
    return this.#promise.then(onFulfilled, onRejected)
  }

  toString(): string {
    const outcome = this.#outcome
    if (!outcome) return `LoopFuture<${this.#state.toLowerCase()}>`
    if (outcome.ok) return `LoopFuture<finished result=${inspect(outcome.value, { depth: 0, breakLength: Infinity })}>`
    return `LoopFuture<finished exception=${inspect(outcome.error, { depth: 0, breakLength: Infinity }).split('\n')[0]!}>`
  }

  [inspect.custom](): string {
    return this.toString()
  }

  /** @internal Runs `fn(this)` synchronously once the future is done (now, if it is). */
  watch(fn: LoopDoneCallback<T>): void {
    if (this.done()) fn(this)
    else this.#listeners.watch(fn)
  }

  #outcomeOf(notDone: string): Outcome<T> {
    if (this.#state === 'CANCELLED') return { ok: false, error: new CancelledError(this.#cancelMessage) }
    if (!this.#outcome) throw new InvalidStateError(notDone)
    return this.#outcome
  }

  #finish(outcome: Outcome<T>): void {
    if (this.done()) throw new InvalidStateError(`${this.#state}: ${this.toString()}`)
    this.#outcome = outcome
    this.#state = 'FINISHED'
    this.#listeners.settle(this, scheduleCallback)
  }
}

function scheduleCallback<T>(future: LoopFuture<T>, fn: LoopDoneCallback<T>): void {
  queueMicrotask(() => {
    try {
      fn(future)
    } catch (error) {
      console.error(`Exception in callback for ${future.toString()}`, error)
    }
  })
}
