// The loop side's own error classes, as asyncio has its own: a concurrent
// CancelledError or InvalidStateError crossing the bridge becomes one of these.

import { nameErrors } from '../concurrent/errors.js'

/** The LoopFuture was cancelled; `message` is what cancel(msg) was given. */
export class CancelledError extends Error {}

/** result()/exception() of a LoopFuture that is not done, or a second setResult(). */
export class InvalidStateError extends Error {}

/**
 * Python's ExceptionGroup: the errors of a TaskGroup, in the order they
 * happened. An AggregateError, so `errors` holds them; `exceptions` is the
 * same list under Python's name.
 */
export class ExceptionGroup extends AggregateError {
  get exceptions(): readonly unknown[] {
    return this.errors as unknown[]
  }
}

nameErrors({ CancelledError, InvalidStateError, ExceptionGroup })
