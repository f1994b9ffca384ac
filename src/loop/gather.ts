// asyncio.gather: many awaitables, one LoopFuture of their results in order.

import { boolean, checkOptions, type Schema } from '../concurrent/validate.js'
import { CancelledError } from './errors.js'
import { LoopFuture } from './loop-future.js'
import { ensureFuture } from './wrap-future.js'

/** Options of `gather()`: `returnExceptions` collects errors instead of rejecting. */
export interface GatherOptions {
  /** Put each error (a CancelledError for a cancelled child) in the results instead of failing with the first. */
  returnExceptions: boolean
}

type Results<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> }
type ResultsOrErrors<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> | Error }

const gatherSchema: Schema<Partial<GatherOptions>> = { returnExceptions: boolean }

/** Cancelling it cancels every child not yet done; it then fails with CancelledError. */
class GatheringFuture<T> extends LoopFuture<T> {
  constructor(readonly children: Array<LoopFuture<unknown>>) {
    super()
  }

  override cancel(message?: string): boolean {
    if (this.done()) return false
    let any = false
    for (const child of this.children) if (child.cancel(message)) any = true
    return any
  }
}

/**
 * The results of every awaitable, in argument order. The first failure fails
 * the whole (the others keep running), unless `returnExceptions`.
 */
export function gather<T extends ReadonlyArray<PromiseLike<unknown>>>(...awaitables: T): LoopFuture<Results<T>>
export function gather<T extends ReadonlyArray<PromiseLike<unknown>>>(...awaitablesThenOptions: [...T, { returnExceptions: true }]): LoopFuture<ResultsOrErrors<T>>
export function gather<T extends ReadonlyArray<PromiseLike<unknown>>>(...awaitablesThenOptions: [...T, GatherOptions]): LoopFuture<ResultsOrErrors<T>>
export function gather(...args: unknown[]): LoopFuture<unknown[]> {
  const last = args.at(-1)
  const hasOptions = typeof last === 'object' && last !== null && typeof (last as PromiseLike<unknown>).then !== 'function'
  const { returnExceptions = false } = hasOptions ? checkOptions(args.pop(), gatherSchema, 'gather()') : {}
  // A repeated awaitable is one child, as in asyncio.
  const children = new Map<unknown, LoopFuture<unknown>>()
  for (const awaitable of args) if (!children.has(awaitable)) children.set(awaitable, ensureFuture(awaitable as PromiseLike<unknown>))
  const outer = new GatheringFuture<unknown[]>([...children.values()])
  if (args.length === 0) {
    outer.setResult([])
    return outer
  }
  let left = children.size
  for (const child of children.values()) {
    child.watch(() => {
      if (outer.done()) return
      if (!returnExceptions) {
        if (child.cancelled()) return outer.setException(new CancelledError())
        const error = child.exception()
        if (error !== undefined) return outer.setException(error)
      }
      if (--left > 0) return
      outer.setResult(args.map((awaitable) => outcome(children.get(awaitable)!)))
    })
  }
  return outer
}

function outcome(child: LoopFuture<unknown>): unknown {
  if (child.cancelled()) return new CancelledError()
  const error = child.exception()
  return error === undefined ? child.result() : error
}
