// Executor.map's result: submits chunks of calls, keeps at most `buffersize`
// chunks in flight, and yields results in input order.

import { TimeoutError } from '../concurrent/errors.js'
import type { Future } from '../concurrent/future.js'
import { longTimeout } from '../concurrent/long-timer.js'
import { checkOptions, milliseconds, positiveInteger, priority, type Schema } from '../concurrent/validate.js'

/** Options of `map()`: a timeout over the whole call, a `chunksize` to batch items per task, a priority. */
export interface MapOptions {
  /** Milliseconds for the whole map, counted from the call. */
  timeout?: number
  /** Calls per task message (default 1). One failing call fails its whole chunk. */
  chunksize?: number
  /** At most this many chunks in flight; the rest are read from the inputs as results are consumed. */
  buffersize?: number
  /** The priority of every task of the map, as submitWith()'s. */
  priority?: number
}

const mapSchema: Schema<MapOptions> = { timeout: milliseconds, chunksize: positiveInteger, buffersize: positiveInteger, priority }

type Schedule = (argLists: unknown[][], chunk: boolean, priority: number | undefined) => Future<unknown>
/** Whether the executor would take another task now (maxQueued). */
type HasRoom = () => boolean

/**
 * The results of Executor.map, in input order: iterate with `for...of`
 * (blocking) or `for await...of`. Leaving the loop early cancels the calls
 * that have not started; so does an error.
 */
export class MapResults<R> implements Iterable<R>, AsyncIterable<R> {
  readonly #schedule: Schedule
  readonly #hasRoom: HasRoom
  readonly #inputs: Iterator<unknown[]>
  readonly #chunksize: number
  readonly #buffersize: number
  readonly #priority: number | undefined
  readonly #deadline: number
  readonly #inFlight: Future<unknown>[] = []
  #ready: unknown[] = []
  #exhausted = false

  constructor(schedule: Schedule, hasRoom: HasRoom, iterables: Iterable<unknown>[], options: MapOptions) {
    const checked = checkOptions(options, mapSchema, 'map()')
    this.#schedule = schedule
    this.#hasRoom = hasRoom
    this.#chunksize = checked.chunksize ?? 1
    this.#buffersize = checked.buffersize ?? Infinity
    this.#priority = checked.priority
    this.#deadline = performance.now() + (checked.timeout ?? Infinity)
    if (iterables.length === 0) throw new TypeError('map() needs at least one iterable of arguments')
    this.#inputs = zip(iterables)
    this.#fill()
  }

  [Symbol.iterator](): Iterator<R, undefined> {
    return {
      next: () => {
        if (this.#ready.length === 0) {
          const future = this.#next()
          if (!future) return done()
          this.#unpack(() => future.result(Math.max(0, this.#deadline - performance.now())))
        }
        return { done: false, value: this.#ready.shift() as R }
      },
      return: () => {
        this.cancel()
        return done()
      },
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<R, undefined> {
    return {
      next: async () => {
        if (this.#ready.length === 0) {
          const future = this.#next()
          if (!future) return done()
          const outcome = await settledWithin(future, this.#deadline)
          this.#unpack(() => {
            if ('error' in outcome) throw outcome.error
            return outcome.value
          })
        }
        return { done: false, value: this.#ready.shift() as R }
      },
      return: async () => {
        this.cancel()
        return done()
      },
    }
  }

  /** Cancels every call that has not started and ends the iteration. */
  cancel(): void {
    if (!this.#exhausted) this.#inputs.return?.(undefined)
    this.#exhausted = true
    this.#ready = []
    for (const future of this.#inFlight.splice(0)) future.cancel()
  }

  #unpack(read: () => unknown): void {
    try {
      const value = read()
      this.#ready = this.#chunksize > 1 ? [...(value as unknown[])] : [value]
    } catch (error) {
      this.cancel()
      throw error
    }
  }

  /** The oldest call in flight, after submitting what now fits behind it. */
  #next(): Future<unknown> | undefined {
    if (this.#inFlight.length === 0) this.#fill()
    const future = this.#inFlight.shift()
    if (future) this.#fill(true)
    return future
  }

  /**
   * Submits chunks up to `buffersize` in flight and, while some are (`busy`),
   * only as long as the executor has room, so a `maxQueued` paces the map
   * instead of failing it. A submit that throws cancels the rest.
   */
  #fill(busy = this.#inFlight.length > 0): void {
    while (!this.#exhausted && this.#inFlight.length < this.#buffersize && (!busy || this.#hasRoom())) {
      const chunk: unknown[][] = []
      while (chunk.length < this.#chunksize) {
        const next = this.#inputs.next()
        if (next.done) {
          this.#exhausted = true
          break
        }
        chunk.push(next.value)
      }
      if (chunk.length === 0) continue
      try {
        this.#inFlight.push(this.#schedule(chunk, this.#chunksize > 1, this.#priority))
      } catch (error) {
        this.cancel()
        throw error
      }
      busy = true
    }
  }
}

async function settledWithin(future: Future<unknown>, deadline: number): Promise<{ value: unknown } | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = longTimeout(() => reject(new TimeoutError()), Math.max(0, deadline - performance.now()))
  })
  try {
    return { value: await Promise.race([future, timeout]) }
  } catch (error) {
    return { error }
  } finally {
    clearTimeout(timer)
  }
}

function done(): IteratorReturnResult<undefined> {
  return { done: true, value: undefined }
}

function* zip(iterables: Iterable<unknown>[]): Generator<unknown[]> {
  const iterators = iterables.map((it) => {
    if (it == null || typeof (it as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`map() arguments must be iterables, got ${String(it)}`)
    }
    return it[Symbol.iterator]()
  })
  try {
    for (;;) {
      const row: unknown[] = []
      for (const it of iterators) {
        const next = it.next()
        if (next.done) return
        row.push(next.value)
      }
      yield row
    }
  } finally {
    for (const it of iterators) it.return?.()
  }
}
