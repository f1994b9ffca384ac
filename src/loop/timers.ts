// The loop's clock and scheduling: time(), callSoon/callLater/callAt with
// cancellable handles, and a cancellable sleep().

import { longTimeout } from '../concurrent/long-timer.js'
import { checkTimeout, checkWhen, func } from '../concurrent/validate.js'
import { LoopFuture } from './loop-future.js'

/** The loop's monotonic clock, in milliseconds (performance.now()). */
export function time(): number {
  return performance.now()
}

/** A callback scheduled by `callSoon()`; `cancel()` stops it from running. */
export class Handle {
  #cancelled = false
  readonly #clear: () => void

  constructor(clear: () => void) {
    this.#clear = clear
  }

  cancel(): void {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#clear()
  }

  cancelled(): boolean {
    return this.#cancelled
  }
}

/** A callback scheduled by `callLater()` or `callAt()`; `when()` says at what loop time it runs. */
export class TimerHandle extends Handle {
  readonly #when: number

  constructor(clear: () => void, when: number) {
    super(clear)
    this.#when = when
  }

  /** When it is due, on the time() clock. */
  when(): number {
    return this.#when
  }
}

/** Calls `fn(...args)` on a later turn of the loop (setImmediate). */
export function callSoon<A extends unknown[]>(fn: (...args: A) => void, ...args: A): Handle {
  func(fn, 'callSoon() fn')
  const immediate = setImmediate(fn, ...args)
  return new Handle(() => clearImmediate(immediate))
}

/** Calls `fn(...args)` in `delayMs` milliseconds. */
export function callLater<A extends unknown[]>(delayMs: number, fn: (...args: A) => void, ...args: A): TimerHandle {
  const delay = checkTimeout(delayMs, 'callLater() delayMs')
  return schedule(delay, time() + delay, fn, args, 'callLater() fn')
}

/** Calls `fn(...args)` at `when` on the time() clock (at once if that has passed). */
export function callAt<A extends unknown[]>(when: number, fn: (...args: A) => void, ...args: A): TimerHandle {
  checkWhen(when, 'callAt() when')
  return schedule(Math.max(0, when - time()), when, fn, args, 'callAt() fn')
}

function schedule<A extends unknown[]>(delay: number, when: number, fn: (...args: A) => void, args: A, name: string): TimerHandle {
  func(fn, name)
  const timer = longTimeout(() => fn(...args), delay)
  return new TimerHandle(() => clearTimeout(timer), when)
}

/** A LoopFuture that resolves to `value` after `ms`; cancelling it clears the timer. */
export function sleep(ms: number): LoopFuture<void>
export function sleep<T>(ms: number, value: T): LoopFuture<T>
export function sleep<T>(ms: number, value?: T): LoopFuture<T | undefined> {
  const delay = checkTimeout(ms, 'sleep() ms')
  const future = new LoopFuture<T | undefined>()
  const timer = longTimeout(() => future.done() || future.setResult(value), delay)
  future.watch(() => clearTimeout(timer))
  return future
}
