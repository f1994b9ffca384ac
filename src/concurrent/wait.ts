// wait() and asCompleted(): block the calling thread on many futures at once.
// A cancelled future counts as done at once (CPython waits for the executor
// to notice the cancellation, and hangs forever if it never does).

import { blockUntil } from './blocking.js'
import { TimeoutError } from './errors.js'
import { Future } from './future.js'
import { checkOptions, milliseconds, oneOf, show, type Schema } from './validate.js'

/** `wait()` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = 'FIRST_COMPLETED'
/** `wait()` returns when any future raises, or when all are done. */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION'
/** `wait()` returns when every future is done (the default). */
export const ALL_COMPLETED = 'ALL_COMPLETED'
/** When `wait()` returns: FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED

/** What `wait()` returns: the futures that were done, and those that were not, when it returned. */
export interface DoneAndNotDone<F extends Future<unknown>> {
  done: Set<F>
  notDone: Set<F>
}

export interface WaitOptions {
  /** Milliseconds; Infinity (the default) waits as long as it takes. */
  timeout?: number
  returnWhen?: ReturnWhen
}

/** The checks of wait()'s options, for both wait()s. */
export const waitSchema: Schema<WaitOptions> = { timeout: milliseconds, returnWhen: oneOf(FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED) }
export const asCompletedSchema: Schema<{ timeout?: number }> = { timeout: milliseconds }

/** `futures` as a set of Futures: an iterable (not one Future), holding nothing else. */
function futuresArg<F extends Future<unknown>>(futures: Iterable<F>, door: string): Set<F> {
  if (futures instanceof Future) throw new TypeError(`${door} takes an iterable of Futures, got one Future: wrap it, [future]`)
  if (futures === null || typeof futures !== 'object' || typeof (futures as Partial<Iterable<F>>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${door} takes an iterable of Futures (an array, a Set), got ${show(futures)}`)
  }
  const all = new Set(futures)
  let i = 0
  for (const f of all) {
    if (!(f instanceof Future)) throw new TypeError(`${door} takes Futures only, but item ${i} is ${show(f)}: for promises, use wait() from 'concurrent-futures/loop'`)
    i++
  }
  return all
}

function failed(future: Future<unknown>): boolean {
  return !future.cancelled() && future.exception(0) !== undefined
}

/** Blocks until the condition in `returnWhen` holds or `timeout` ms pass; never throws on timeout. */
export function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: WaitOptions = {},
): DoneAndNotDone<F> {
  const checked = checkOptions(options, waitSchema, 'wait()')
  const timeout = checked.timeout ?? Infinity
  const returnWhen = checked.returnWhen ?? ALL_COMPLETED
  const all = futuresArg(futures, 'wait()')
  const done = new Set([...all].filter((f) => f.done()))
  let sawException = [...done].some(failed)
  const ready = (): boolean =>
    done.size === all.size ||
    (returnWhen === FIRST_COMPLETED && done.size > 0) ||
    (returnWhen === FIRST_EXCEPTION && sawException)

  if (!ready()) {
    const waiting = [...all].filter((f) => !done.has(f))
    const onDone = (f: F): void => {
      done.add(f)
      sawException ||= failed(f)
    }
    for (const f of waiting) f.watch(onDone)
    try {
      blockUntil(ready, performance.now() + timeout, () => `wait() on ${all.size - done.size} futures`)
    } finally {
      for (const f of waiting) f.unwatch(onDone)
    }
  }
  return { done, notDone: new Set([...all].filter((f) => !done.has(f))) }
}

/**
 * Yields each future as it completes: first those already done, then the
 * rest in completion order. The timeout clock starts at the first next().
 */
export function asCompleted<F extends Future<unknown>>(futures: Iterable<F>, options: { timeout?: number } = {}): Generator<F, void, undefined> {
  const { timeout = Infinity } = checkOptions(options, asCompletedSchema, 'asCompleted()')
  const finished: F[] = []
  const pending = new Set<F>()
  for (const f of futuresArg(futures, 'asCompleted()')) {
    if (f.done()) finished.push(f)
    else pending.add(f)
  }
  return completions(finished, pending, timeout)
}

/** Holds each future only until it is yielded (B107): the caller may drop the ones it has seen. */
function* completions<F extends Future<unknown>>(finished: F[], pending: Set<F>, timeout: number): Generator<F, void, undefined> {
  const deadline = performance.now() + timeout
  const total = finished.length + pending.size
  const onDone = (f: F): void => {
    pending.delete(f)
    finished.push(f)
  }
  for (const f of pending) f.watch(onDone)
  try {
    for (;;) {
      while (finished.length > 0) yield finished.shift()!
      if (pending.size === 0) return
      const arrived = blockUntil(() => finished.length > 0, deadline, () => `asCompleted() on ${pending.size} futures`)
      if (!arrived) throw new TimeoutError(`${pending.size} (of ${total}) futures unfinished`)
    }
  } finally {
    for (const f of pending) f.unwatch(onDone)
  }
}
