// asyncio.wait and asyncio.as_completed over any awaitables. They never
// cancel what they wait for, and wait() never throws on timeout.

import { TimeoutError } from '../concurrent/errors.js'
import { longTimeout } from '../concurrent/long-timer.js'
import { boolean, checkOptions, show, type Schema } from '../concurrent/validate.js'
import { ALL_COMPLETED, asCompletedSchema, FIRST_COMPLETED, FIRST_EXCEPTION, waitSchema, type WaitOptions } from '../concurrent/wait.js'
import type { LoopFuture } from './loop-future.js'
import { ensureFuture } from './wrap-future.js'

/** What the loop's `wait()` resolves to: the awaitables that were done, and those still pending. */
export interface DoneAndPending<A> {
  done: Set<A>
  pending: Set<A>
}


/** Waits until `returnWhen` holds or `timeout` ms pass; resolves with the awaitables split into done and pending. */
export async function wait<A extends PromiseLike<unknown>>(
  awaitables: Iterable<A>,
  options: WaitOptions = {},
): Promise<DoneAndPending<A>> {
  const { returnWhen = ALL_COMPLETED, timeout = Infinity } = checkOptions(options, waitSchema, 'wait()')
  const futures = futuresOf(awaitables, 'wait')
  if (futures.size === 0) throw new RangeError('wait() needs at least one awaitable: the set of futures is empty')
  await new Promise<void>((resolve) => {
    let done = 0
    let sawException = false
    let finished = false
    let timer: NodeJS.Timeout | undefined
    const check = (): void => {
      if (finished) return
      if (done < futures.size && !(returnWhen === FIRST_COMPLETED && done > 0) && !(returnWhen === FIRST_EXCEPTION && sawException)) return
      finished = true
      clearTimeout(timer)
      resolve()
    }
    // A watcher runs at once for a future already done, so this counts those too.
    for (const future of futures.values()) {
      future.watch(() => {
        done++
        sawException ||= !future.cancelled() && future.exception() !== undefined
        check()
      })
    }
    if (!finished) timer = longTimeout(resolve, timeout)
  })
  const result: DoneAndPending<A> = { done: new Set(), pending: new Set() }
  for (const [awaitable, future] of futures) (future.done() ? result.done : result.pending).add(awaitable)
  return result
}

/** Options of the loop's asCompleted(): a deadline, and `futures: true` to get each awaitable rather than its value. */
export interface AsCompletedOptions {
  /** Milliseconds from the call; past it the iteration throws TimeoutError. */
  timeout?: number
  /** Yield `{ awaitable }` for each as it finishes, instead of its value (Python 3.13 yields the futures); a failed one does not throw. */
  futures?: boolean
}

const loopAsCompletedSchema: Schema<AsCompletedOptions> = { ...asCompletedSchema, futures: boolean }

/**
 * Yields the results in the order they complete: `for await (const value of
 * asCompleted(aws))`. A failed awaitable throws at its turn. With `timeout`
 * (counted from this call), the iteration throws TimeoutError once it passes.
 * With `futures: true` it yields `{ awaitable }`, each awaitable given as it
 * finishes: in a record, since `for await` would type a bare one as its value.
 */
export function asCompleted<A extends PromiseLike<unknown>>(awaitables: Iterable<A>, options: AsCompletedOptions & { futures: true }): AsyncIterableIterator<{ awaitable: A }>
export function asCompleted<A extends PromiseLike<unknown>>(awaitables: Iterable<A>, options?: AsCompletedOptions & { futures?: false }): AsyncIterableIterator<Awaited<A>>
export function asCompleted<A extends PromiseLike<unknown>>(awaitables: Iterable<A>, options: AsCompletedOptions = {}): AsyncIterableIterator<unknown> {
  const { timeout = Infinity, futures: yieldFutures = false } = checkOptions(options, loopAsCompletedSchema, 'asCompleted()')
  const futures = futuresOf(awaitables, 'asCompleted')
  const ready: A[] = []
  const waiting: Array<{ resolve: (done: A) => void; reject: (e: unknown) => void }> = []
  let left = futures.size
  let timedOut = false
  const timeoutError = (): TimeoutError => new TimeoutError(`asCompleted: ${left} of ${futures.size} still pending after ${timeout} ms`)
  const timer = left === 0 ? undefined : longTimeout(() => {
    timedOut = true
    for (const waiter of waiting.splice(0)) waiter.reject(timeoutError())
  }, timeout)
  for (const [awaitable, future] of futures) {
    future.watch(() => {
      if (timedOut) return
      if (--left === 0) clearTimeout(timer)
      const waiter = waiting.shift()
      if (waiter) waiter.resolve(awaitable)
      else ready.push(awaitable)
    })
  }
  // Resolves with a box: resolving with the awaitable itself would adopt its outcome.
  const nextDone = (): Promise<[A]> => {
    if (ready.length > 0) return Promise.resolve([ready.shift()!])
    if (timedOut) return Promise.reject(timeoutError())
    return new Promise((resolve, reject) => waiting.push({ resolve: (done) => resolve([done]), reject }))
  }
  return {
    async next(): Promise<IteratorResult<unknown>> {
      if (ready.length === 0 && left === 0) return { value: undefined, done: true }
      const [done] = await nextDone()
      return { value: yieldFutures ? { awaitable: done } : await futures.get(done)!, done: false }
    },
    async return(): Promise<IteratorResult<unknown>> {
      clearTimeout(timer)
      left = 0
      ready.length = 0
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}

function futuresOf<A extends PromiseLike<unknown>>(awaitables: Iterable<A>, name: string): Map<A, LoopFuture<unknown>> {
  if (awaitables === null || typeof awaitables !== 'object' || typeof (awaitables as Partial<PromiseLike<unknown>>).then === 'function' || !(Symbol.iterator in awaitables)) {
    throw new TypeError(`${name}() expects an iterable of awaitables (an array, a Set), got ${show(awaitables)}${typeof (awaitables as { then?: unknown } | null)?.then === 'function' ? ': wrap it, [awaitable]' : ''}`)
  }
  const futures = new Map<A, LoopFuture<unknown>>()
  let i = 0
  for (const awaitable of awaitables) {
    if (typeof (awaitable as Partial<PromiseLike<unknown>> | null)?.then !== 'function') {
      throw new TypeError(`${name}() takes awaitables only (promises, LoopFutures, Futures), but item ${i} is ${show(awaitable)}`)
    }
    if (!futures.has(awaitable)) futures.set(awaitable, ensureFuture(awaitable))
    i++
  }
  return futures
}
