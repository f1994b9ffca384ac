// The bridge from concurrent Futures (and any promise) to LoopFutures.
// Outcomes travel from the source to the LoopFuture; only cancellation
// travels back.

import { inspect } from 'node:util'
import * as concurrent from '../concurrent/errors.js'
import { Future } from '../concurrent/future.js'
import { checkOptions, signal as signalCheck, type Schema } from '../concurrent/validate.js'
import { CancelledError, InvalidStateError } from './errors.js'
import { LoopFuture } from './loop-future.js'

/** Options of `wrapFuture()`: a signal that cancels the LoopFuture. */
export interface WrapOptions {
  /** Aborting cancels the LoopFuture, and with it the concurrent Future if it has not started. */
  signal?: AbortSignal
}

const wrapSchema: Schema<WrapOptions> = { signal: signalCheck }

/**
 * A LoopFuture for a concurrent Future. It settles in the same turn as the
 * concurrent one (at once, if that is already done); cancelling it cancels the
 * concurrent Future unless that has started. A LoopFuture is returned as it is.
 */
export function wrapFuture<T>(future: Future<T> | LoopFuture<T>, options?: WrapOptions): LoopFuture<T> {
  if (!(future instanceof Future || future instanceof LoopFuture)) throw new TypeError(`wrapFuture expects a concurrent Future or a LoopFuture, got ${inspect(future, { depth: 0 })}`)
  const { signal } = checkOptions(options, wrapSchema, 'wrapFuture()')
  if (future instanceof LoopFuture) return withSignal(future, signal)
  return withSignal(follow(future, new LoopFuture<T>()), signal)
}

/** Makes `loopFuture` follow `future`, and cancel it if it is cancelled first. */
export function follow<T>(future: Future<T>, loopFuture: LoopFuture<T>): LoopFuture<T> {
  loopFuture.watch(() => loopFuture.cancelled() && future.cancel())
  future.watch(() => copyState(future, loopFuture))
  return loopFuture
}

/** Any awaitable as a LoopFuture: itself, a wrapped concurrent Future, or one that follows a promise. */
export function ensureFuture<T>(awaitable: PromiseLike<T>): LoopFuture<T> {
  if (awaitable instanceof LoopFuture || awaitable instanceof Future) return wrapFuture(awaitable)
  if (typeof (awaitable as PromiseLike<T> | null)?.then !== 'function') {
    throw new TypeError(`expected a promise, a LoopFuture or a concurrent Future, got ${inspect(awaitable, { depth: 0 })}`)
  }
  const loopFuture = new LoopFuture<T>()
  awaitable.then(
    (value) => loopFuture.done() || loopFuture.setResult(value),
    (error: unknown) => loopFuture.done() || loopFuture.setException(error),
  )
  return loopFuture
}

function withSignal<T>(loopFuture: LoopFuture<T>, signal: AbortSignal | undefined): LoopFuture<T> {
  if (signal === undefined) return loopFuture
  const onAbort = (): boolean => loopFuture.cancel(abortMessage(signal.reason))
  if (signal.aborted) onAbort()
  else {
    signal.addEventListener('abort', onAbort, { once: true })
    loopFuture.watch(() => signal.removeEventListener('abort', onAbort))
  }
  return loopFuture
}

function abortMessage(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason)
}

function copyState<T>(source: Future<T>, destination: LoopFuture<T>): void {
  if (destination.done()) return // cancelled: the late outcome is dropped, as in asyncio
  if (source.cancelled()) {
    destination.cancel()
    return
  }
  try {
    destination.setResult(source.result())
  } catch (error) {
    destination.setException(toLoopError(error))
  }
}

/** The concurrent CancelledError and InvalidStateError (exactly those classes) become the loop's. */
function toLoopError(error: unknown): unknown {
  const Loop = error?.constructor === concurrent.CancelledError ? CancelledError : error?.constructor === concurrent.InvalidStateError ? InvalidStateError : undefined
  if (!Loop) return error
  const converted = new Loop((error as Error).message)
  converted.stack = (error as Error).stack
  return converted
}
