// The caller's side of a task's progress reports: the callbacks and async
// iterators of one Future. Reports arrive already coalesced by the worker
// (wire/progress.ts); here nothing is queued either: an iterator keeps only
// the newest value its consumer has not taken.

/** Declared as a method type so Future<T, P> stays covariant in P. */
export type ProgressCallback<P> = { bivariant(value: P): void }['bivariant']

/** A pending next(), declared as a method type for the same reason. */
type Waiter<P> = { bivariant(result: IteratorResult<P, undefined>): void }['bivariant']

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

export class ProgressListeners<P> {
  readonly #callbacks: Array<ProgressCallback<P>> = []
  readonly #iterators = new Set<LatestProgress<P>>()

  add(callback: ProgressCallback<P>): void {
    this.#callbacks.push(callback)
  }

  iterator(): AsyncIterableIterator<P> {
    const iterator: LatestProgress<P> = new LatestProgress(() => this.#iterators.delete(iterator))
    this.#iterators.add(iterator)
    return iterator
  }

  /** Calls the callbacks in order and hands `value` to the iterators; a callback that settles the future ends it all (end()). */
  emit(value: P, describe: () => string): void {
    for (const callback of this.#callbacks) {
      try {
        callback(value)
      } catch (error) {
        console.error(`exception calling progress callback for ${describe()}`, error)
      }
    }
    for (const iterator of this.#iterators) iterator.push(value)
  }

  /** The future is done: no callback is called again; each iterator yields what it holds, then ends. */
  end(): void {
    this.#callbacks.length = 0
    for (const iterator of this.#iterators) iterator.end()
    this.#iterators.clear()
  }
}

/** An iterator of progress values that holds only the newest one not yet taken: a slow consumer skips values, never queues them. */
class LatestProgress<P> implements AsyncIterableIterator<P> {
  #held: { value: P } | undefined
  #waiting: Array<Waiter<P>> = []
  #ended = false
  readonly #detach: () => void

  constructor(detach: () => void) {
    this.#detach = detach
  }

  push(value: P): void {
    const waiter = this.#waiting.shift()
    if (waiter) waiter({ done: false, value })
    else this.#held = { value }
  }

  end(): void {
    this.#ended = true
    for (const waiter of this.#waiting.splice(0)) waiter(DONE)
  }

  next(): Promise<IteratorResult<P, undefined>> {
    const held = this.#held
    if (held) {
      this.#held = undefined
      return Promise.resolve({ done: false, value: held.value })
    }
    if (this.#ended) return Promise.resolve(DONE)
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  /** Breaking out of `for await`: stop listening. */
  return(): Promise<IteratorResult<P, undefined>> {
    this.#held = undefined
    this.#detach()
    this.end()
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/** The iterator of a future that is already done: it yields nothing. */
export function endedProgress<P>(): AsyncIterableIterator<P> {
  const listeners = new ProgressListeners<P>()
  const iterator = listeners.iterator()
  listeners.end()
  return iterator
}
