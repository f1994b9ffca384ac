// asyncio.timeout and timeout_at: a deadline for a block of awaits. JavaScript
// cannot cancel a running block, so the deadline acts through an AbortSignal:
// on expiry `t.signal` aborts with a TimeoutError, and every await given it
// (runInExecutorWith, waitFor, fetch, a TaskGroup) rejects with that error.

import { TimeoutError } from '../concurrent/errors.js'
import { longTimeout } from '../concurrent/long-timer.js'
import { checkTimeout, checkWhen, show } from '../concurrent/validate.js'
import { CancelledError, InvalidStateError } from './errors.js'
import { time } from './timers.js'

/** Timeout's end for withTimeout(), which alone sees the body's error. */
let settleTimeout: (t: Timeout, error: unknown) => unknown

/** A deadline for a block of awaits, as timeout() and timeoutAt() give: pass its `signal` to what the block awaits. */
export class Timeout implements Disposable {
  readonly #controller = new AbortController()
  #when: number
  #timer: NodeJS.Timeout | undefined
  #state: 'active' | 'expired' | 'finished' = 'active'

  /** A deadline at `when` on the time() clock (null or Infinity: none), as timeoutAt() gives. */
  constructor(when: number | null) {
    this.#when = when === null ? Infinity : checkWhen(when, 'timeoutAt() when')
    this.#arm()
  }

  /** Aborts at the deadline with this timeout's TimeoutError: pass it to what the block awaits. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** The deadline on the time() clock; null: none. */
  when(): number | null {
    return this.#when === Infinity ? null : this.#when
  }

  /** Whether the deadline passed (and the signal aborted). */
  expired(): boolean {
    return this.#state === 'expired'
  }

  /** Moves the deadline (a time() value; null or Infinity: none). Only before it expired and while the block runs. */
  reschedule(when: number | null): void {
    if (this.#state !== 'active') throw new InvalidStateError(`reschedule(): cannot change a Timeout that is ${this.#state}`)
    this.#when = when === null ? Infinity : checkWhen(when, 'reschedule() when')
    this.#arm()
  }

  /** `using t = timeout(ms)`: clears the deadline. It never throws: the block's own awaits carry the TimeoutError. */
  [Symbol.dispose](): void {
    clearTimeout(this.#timer)
    if (this.#state === 'active') this.#state = 'finished'
  }

  /** The callback form's end: the body's error, turned into this timeout's TimeoutError if it is the expiry's. */
  #settle(error: unknown): unknown {
    this[Symbol.dispose]()
    if (this.#state !== 'expired') return error
    const reason = this.#controller.signal.reason as TimeoutError
    if (error === reason) return error
    const cancelled = error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError' && error.cause === reason)
    return cancelled ? new TimeoutError(reason.message, { cause: error }) : error
  }

  #arm(): void {
    clearTimeout(this.#timer)
    this.#timer = longTimeout(() => this.#expire(), Math.max(0, this.#when - time()))
  }

  #expire(): void {
    this.#state = 'expired'
    this.#controller.abort(new TimeoutError(`timeout: the deadline passed (at ${this.#when.toFixed(0)} ms on the loop's clock)`))
  }

  static {
    settleTimeout = (t, error) => t.#settle(error)
  }
}

/** A deadline `ms` from now (null or Infinity: none); negative or NaN is refused. */
export function timeout(ms: number | null): Timeout {
  return new Timeout(time() + checkTimeout(ms, 'timeout() ms'))
}

/** A deadline at `when` on the time() clock (null or Infinity: none); a time past expires at once. */
export function timeoutAt(when: number | null): Timeout {
  return new Timeout(when)
}

/**
 * The callback form: runs `body(t)` and waits for it. If the deadline passed
 * and the body failed with the expiry (t.signal's reason, an AbortError it
 * caused, or a CancelledError), it rejects with TimeoutError, as asyncio does.
 */
export async function withTimeout<T>(ms: number | null, body: (t: Timeout) => T | PromiseLike<T>): Promise<Awaited<T>> {
  if (typeof body !== 'function') throw new TypeError(`withTimeout() takes a function of the Timeout, got ${show(body)}`)
  const t = timeout(ms)
  try {
    return await body(t)
  } catch (error) {
    throw settleTimeout(t, error)
  } finally {
    t[Symbol.dispose]()
  }
}
