// Runs a streamed task (stream() in the pool): a generator, sync or async,
// whose items go back to the pool as it yields them. It calls next() only
// while the consumer has granted credit (STREAM_WINDOW in wire/protocol.ts),
// sends the items in batches, and closes the generator, so its `finally`
// runs, when the task is interrupted: by the consumer stopping early, by its
// signal or by its timeout.

import { carry, type Channel } from '../src/wire/channel.js'
import { STREAM_WINDOW, type FromWorker } from '../src/wire/protocol.js'
import { currentSignal, throwIfInterrupted } from '../src/wire/task-context.js'

type Fn = (...args: unknown[]) => unknown
type Step = IteratorResult<unknown, unknown>
interface AnyIterator {
  next(): Step | PromiseLike<Step>
  return?(): unknown
}

/**
 * Items are sent at least this often (ms) while a generator runs without a
 * pause, and whenever it pauses (it awaits something slower than a
 * microtask), so no item waits for the next.
 */
const BATCH_MS = 1

/** The stream this worker runs (a worker runs one task at a time); its credit: how many more items it may produce. */
let active: { id: number; credit: number; wake: (() => void) | undefined; send(): void } | undefined

/** The pool granted stream `id` more credit; a grant for a stream that has ended is dropped. */
export function grant(id: number, credit: number): void {
  if (active?.id !== id) return
  active.credit += credit
  active.wake?.()
}

/** Sends the items the running stream has not sent yet: the worker is about to exit. */
export function flushStream(): void {
  try {
    active?.send()
  } catch {
    // An item that cannot be sent: the stream fails as its worker goes.
  }
}

/** The generator function behind each task plainOnly() made. */
const generators = new WeakMap<Fn, Fn>()

/**
 * A generator function, as submit() and map() would call it, returns a
 * generator that cannot be sent back: it becomes a task that says to use
 * stream() instead, which calls `run` (the function, or it bound to its `this`).
 */
export function plainOnly(fn: Fn, run: Fn): Fn {
  const refuse: Fn = () => {
    throw new TypeError(`${fn.name || 'the task'} is a generator function, whose items submit() and map() cannot return: run it with stream(fn, ...args) and iterate over what it yields`)
  }
  generators.set(refuse, run)
  return refuse
}

/** Runs task `id`, `fn(...args)`, to its end: posts what it yields, returns what it returns. */
export async function runStream(fn: Fn, args: unknown[], id: number, post: (message: FromWorker) => void, channel: Channel): Promise<unknown> {
  const iterator = (generators.get(fn) ?? fn)(...args)
  if (!isIterator(iterator)) {
    throw new TypeError(`stream() runs a generator function (function* or async function*), but the task returned ${iterator === null ? 'null' : typeof iterator}, not a generator`)
  }
  let items: unknown[] = []
  let sentAt = performance.now()
  let ended = false
  /** A send is due when the worker next goes idle. */
  let sendDue = false
  /** Why such a send failed: the stream fails with it. */
  let unsent: unknown
  const state: NonNullable<typeof active> = (active = { id, credit: STREAM_WINDOW, wake: undefined, send })
  // The pool interrupts a stream waiting for credit through its signal.
  currentSignal().addEventListener('abort', () => state.wake?.())

  function send(): void {
    sentAt = performance.now()
    if (items.length === 0) return
    const batch = items
    items = []
    try {
      post({ event: 'items', id, items: batch })
    } catch {
      sendUntilUnsendable(batch)
    }
  }

  function sendWhenIdle(): void {
    sendDue = false
    try {
      send()
    } catch (error) {
      unsent = error
    }
  }

  /** Sends the items before the first that cannot travel, then fails the stream with why. */
  function sendUntilUnsendable(batch: unknown[]): void {
    const copies: unknown[] = []
    let failure: unknown
    for (const item of batch) {
      try {
        copies.push(copyItem(item))
      } catch (error) {
        failure = error
        break
      }
    }
    if (copies.length > 0) post({ event: 'items', id, items: copies })
    if (failure !== undefined) throw failure
  }

  /** `item` as the pool will receive it; throws a TypeError that says so if it cannot travel. */
  function copyItem(item: unknown): unknown {
    try {
      return carry(item, channel)
    } catch (error) {
      throw new TypeError(`an item the task yielded could not be sent back to the pool: ${(error as Error).message}`, { cause: error })
    }
  }

  try {
    for (;;) {
      throwIfInterrupted()
      if (state.credit === 0) {
        send()
        await new Promise<void>((resolve) => (state.wake = resolve))
        state.wake = undefined
        continue
      }
      let step: Step | PromiseLike<Step>
      try {
        step = iterator.next()
        if (isThenable(step)) step = await step
      } catch (error) {
        ended = true
        throw error
      }
      if (unsent !== undefined) {
        ended = step.done === true
        throw unsent
      }
      if (step.done) {
        ended = true
        send()
        return step.value
      }
      // An object is copied now: resumed, the generator may change it before its batch goes.
      items.push(typeof step.value === 'object' && step.value !== null ? copyItem(step.value) : step.value)
      state.credit--
      if (performance.now() - sentAt >= BATCH_MS) send()
      else if (!sendDue) {
        sendDue = true
        setImmediate(sendWhenIdle)
      }
    }
  } catch (error) {
    // Interrupted, or an item could not be sent: the generator is still open, so its finally has not run.
    if (!ended) await iterator.return?.()
    send()
    throw error
  } finally {
    active = undefined
  }
}

function isIterator(value: unknown): value is AnyIterator {
  return typeof (value as AnyIterator | null)?.next === 'function'
}

function isThenable(value: unknown): value is PromiseLike<Step> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}
