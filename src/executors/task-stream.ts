// The caller's side of a streamed task (stream() on a pool): the items its
// worker sent that the consumer has not taken yet, and the credit that keeps
// the worker at most STREAM_WINDOW items ahead of the consumer (the worker's
// side is workers/stream-runner.ts).

import type { Future } from '../concurrent/future.js'
import { STREAM_WINDOW } from '../wire/protocol.js'

/**
 * What `stream()` returns: the values a generator task yields, in order, for
 * `for await...of`, and `result`, the Future of the value it returns.
 *
 * The worker runs at most STREAM_WINDOW (128) items ahead of the consumer,
 * which grants it credit as it takes items; one consumer at a time.
 * Leaving the loop early (`break`, a throw, `return()`) stops the generator:
 * its `finally` runs in the worker, and `result` fails with CancelledError
 * (unless the generator had returned already); settling `result` yourself
 * stops it too. An error in the generator,
 * a cancel, the signal or timeout of `streamWith()`, or the worker's death
 * ends the iteration, after the items that came before it, with the error
 * `result` fails with.
 *
 * `result` settles once the generator has returned, which it does only as
 * its items are consumed: consume the stream (or stop it) before waiting
 * for `result`. A blocking `result.result()` that only the consumer could
 * end throws DeadlockError rather than block for ever.
 */
export interface TaskStream<Y, R> extends AsyncIterableIterator<Y, undefined, undefined> {
  /** The generator's return value. */
  readonly result: Future<R>
  next(): Promise<IteratorResult<Y, undefined>>
  /** Stops the stream: the items not yet taken are dropped, and the generator is stopped if it still runs. */
  return(): Promise<IteratorResult<Y, undefined>>
}

/** How a stream reaches its task's worker; given by the pool. */
export interface StreamLink {
  /** Lets the worker produce `credit` more items. */
  grant(credit: number): void
  /** Stops the task if its worker still runs it: the consumer wants no more. */
  stop(): void
}

type Waiter = { resolve(step: IteratorResult<unknown, undefined>): void; reject(error: unknown): void }

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

export class StreamReader implements TaskStream<unknown, unknown> {
  result!: Future<unknown>
  #link!: StreamLink
  /** Items received and not taken, from `#head` on. */
  #items: unknown[] = []
  #head = 0
  #taken = 0
  #received = 0
  /** Items the worker may produce in all: taken + STREAM_WINDOW, or less until the consumer catches up. */
  #granted = STREAM_WINDOW
  /** next() calls waiting for an item or the end, in order. */
  #waiters: Waiter[] = []
  /** No more items will be given: the consumer stopped, or the end was delivered. */
  #closed = false

  /** Called by the pool once the task is scheduled. */
  connect(result: Future<unknown>, link: StreamLink): void {
    this.result = result
    this.#link = link
    result.watch(() => {
      // Settled by its user before the generator returned, the stream gets no more credit: stopped
      // now, the generator does not hold its worker for ever (a finished task is not stopped again).
      link.stop()
      this.#serve()
    })
  }

  /** Items from the worker, in the order it yielded them. */
  push(items: unknown[]): void {
    this.#received += items.length
    if (this.#closed) return
    for (const item of items) this.#items.push(item)
    this.#serve()
  }

  next(): Promise<IteratorResult<unknown, undefined>> {
    if (this.#waiters.length === 0 && this.#head < this.#items.length) return Promise.resolve(this.#take())
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      this.#serve()
    })
  }

  return(): Promise<IteratorResult<unknown, undefined>> {
    if (!this.#closed) {
      this.#closed = true
      this.#items = []
      this.#head = 0
      if (!this.result.done()) this.#link.stop()
      this.#serve()
    }
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** The worker has sent all the items it was granted and waits for the consumer to take some. */
  stalled(): boolean {
    return !this.#closed && this.#received >= this.#granted && !this.result.done()
  }

  /** Answers the waiting next() calls with what there is: items first, then the end. */
  #serve(): void {
    while (this.#waiters.length > 0) {
      if (this.#head < this.#items.length) this.#waiters.shift()!.resolve(this.#take())
      else if (this.#closed) this.#waiters.shift()!.resolve(DONE)
      else if (this.result.done()) {
        this.#closed = true
        const failure = failureOf(this.result)
        if (failure) this.#waiters.shift()!.reject(failure.error)
      } else return
    }
  }

  #take(): IteratorYieldResult<unknown> {
    const value = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    // At most a window of items waits here; dropping the taken ones keeps the array that size, however long the stream.
    if (this.#head === this.#items.length) this.#items.length = this.#head = 0
    else if (this.#head >= STREAM_WINDOW) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
    this.#taken++
    // Grant in halves of the window, so a fast consumer never leaves the worker waiting and grants are few.
    if (this.#granted - this.#taken <= STREAM_WINDOW / 2 && !this.result.done()) {
      this.#link.grant(this.#taken + STREAM_WINDOW - this.#granted)
      this.#granted = this.#taken + STREAM_WINDOW
    }
    return { done: false, value }
  }
}

/** The error a settled future failed with (CancelledError if cancelled), if it failed. */
function failureOf(future: Future<unknown>): { error: unknown } | undefined {
  try {
    future.result(0)
    return undefined
  } catch (error) {
    return { error }
  }
}

/**
 * A pool's streams not yet done. One that waits for its consumer holds its
 * worker until the consumer comes, which cannot happen while this thread is
 * blocked in result(): a blocked wait that only such streams could end is a
 * deadlock (blocking.ts).
 */
export class OpenStreams {
  readonly #open = new Set<StreamReader>()

  add(stream: StreamReader): void {
    this.#open.add(stream)
    stream.result.watch(() => this.#open.delete(stream))
  }

  /** Whether some of a pool's `live` jobs could settle while this thread blocks, with `workers` workers at most. */
  allowProgress(live: number, workers: number): boolean {
    const stalled = this.#stalled()
    return live > stalled && stalled < workers
  }

  /** What a blocked wait says when it cannot end. */
  deadlockHint(): string | undefined {
    if (this.#stalled() === 0) return undefined
    return 'A stream (stream()) waits for its consumer to take its items, which cannot happen while this thread blocks: consume the stream before waiting for its result.'
  }

  #stalled(): number {
    let stalled = 0
    for (const stream of this.#open) if (stream.stalled()) stalled++
    return stalled
  }
}
