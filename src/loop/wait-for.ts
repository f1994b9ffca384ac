// asyncio.wait_for and asyncio.shield.

import { TimeoutError } from '../concurrent/errors.js'
import { longTimeout } from '../concurrent/long-timer.js'
import { checkOptions, checkTimeout, signal as signalCheck, type Schema } from '../concurrent/validate.js'
import { LoopFuture } from './loop-future.js'
import { ensureFuture } from './wrap-future.js'

const waitForSchema: Schema<{ signal?: AbortSignal }> = { signal: signalCheck }

/**
 * The awaitable's result, or TimeoutError after `timeoutMs`, when the
 * awaitable is cancelled (a concurrent Future too, if it has not started).
 * An aborted `signal` cancels it the same way and rejects with the reason.
 */
export function waitFor<T>(awaitable: PromiseLike<T>, timeoutMs?: number, options: { signal?: AbortSignal } = {}): Promise<T> {
  const timeout = checkTimeout(timeoutMs, 'waitFor() timeoutMs')
  const { signal } = checkOptions(options, waitForSchema, 'waitFor()')
  const inner = ensureFuture(awaitable)
  return new Promise<T>((resolve, reject) => {
    const stop = (error: unknown): void => {
      inner.cancel()
      reject(error)
    }
    const onAbort = (): void => stop(signal!.reason)
    const timer = longTimeout(() => stop(new TimeoutError(`waitFor: not done within ${timeout} ms`)), timeout)
    signal?.addEventListener('abort', onAbort, { once: true })
    inner.watch(() => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      inner.then(resolve, reject) // after a stop() this settles nothing: the promise is already rejected
    })
    if (signal?.aborted) onAbort()
  })
}

/**
 * A LoopFuture that follows `awaitable` but whose cancel() leaves it running.
 * Cancelling the inner cancels the outer; a done inner is returned itself.
 */
export function shield<T>(awaitable: PromiseLike<T>): LoopFuture<T> {
  const inner = ensureFuture(awaitable)
  if (inner.done()) return inner
  const outer = new LoopFuture<T>()
  inner.watch(() => {
    if (outer.done()) return
    if (inner.cancelled()) outer.cancel()
    else if (inner.exception() !== undefined) outer.setException(inner.exception())
    else outer.setResult(inner.result())
  })
  return outer
}
