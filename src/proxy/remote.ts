// remote(): an object made inside one worker of a pool, used through a proxy
// whose method calls and property reads run there, in order. The worker side
// is workers/remote-objects.ts; the pool keeps the object's tasks on its
// worker (a Pin) and does not recycle that worker while the object lives.

import { inspect } from 'node:util'
import { QueueFullError } from '../concurrent/errors.js'
import { checkOptions, type Schema } from '../concurrent/validate.js'
import { submitSchema, type Executor, type SubmitOptions } from '../executors/executor.js'
import { canPin, Pin } from '../executors/pin.js'
import { moduleUrl, taskRef, type AnyFn, type TaskRef } from '../executors/task.js'
import { LoopFuture } from '../loop/loop-future.js'
import { follow, wrapFuture } from '../loop/wrap-future.js'
import type { Received } from '../wire/channel.js'
import { checkNoFunctions } from './check-args.js'

/** What constructing (`new`) or calling (a factory, maybe async) an export gives. */
export type Made<E> = E extends abstract new (...args: never[]) => infer I ? I : E extends (...args: never[]) => infer R ? Awaited<R> : never
/** The arguments constructing (`new`) or calling (a factory) an export takes. */
export type MakeArgs<E> = E extends abstract new (...args: infer A) => unknown ? A : E extends (...args: infer A) => unknown ? A : never

declare const remoteObject: unique symbol

/** T's methods return LoopFutures; its other properties are read by awaiting them. */
export type Remote<T> = {
  readonly [K in keyof T & string]: T[K] extends (...args: infer A) => infer R ? (...args: A) => LoopFuture<Received<Awaited<R>>> : PromiseLike<Received<T[K]>>
} & AsyncDisposable & { readonly [remoteObject]: true }

/** How the calls and reads of a view made by withOptions() are submitted. */
export type CallOptions = Pick<SubmitOptions, 'signal' | 'timeoutMs'>

const callSchema: Schema<CallOptions> = { signal: submitSchema.signal, timeoutMs: submitSchema.timeoutMs }
// Each call waits in the pool's queue at the default priority, behind the object's earlier calls.
const notForCalls = { priority: "an object's calls run in the order they are made, so they take no priority" }

const objectsModule = new URL('../../workers/remote-objects.js', import.meta.url)
const [construct, call, read, dispose] = ['construct', 'call', 'read', 'dispose'].map((name) => taskRef<AnyFn>(objectsModule, name)) as [
  TaskRef<AnyFn>, TaskRef<AnyFn>, TaskRef<AnyFn>, TaskRef<AnyFn>,
]
let nextId = 1

/**
 * `await remote<typeof import('./file.js').SyncFile>(pool, url, 'SyncFile', path)`
 * makes the object in one worker (`new` for a class, a call for a factory;
 * the type argument is that export's type) and resolves once it exists. Free
 * it with `await using` or `[Symbol.asyncDispose]()`; if its worker dies,
 * every call rejects naming it.
 */
export async function remote<E>(executor: Executor, module: string | URL, exportName: string, ...args: MakeArgs<E>): Promise<Remote<Made<E>>> {
  if (!canPin(executor)) throw new TypeError('remote() needs a ThreadPoolExecutor or a ProcessPoolExecutor: an object lives in one of their workers')
  taskRef(module, exportName) // checks both, naming them
  const id = nextId++
  const name = `remote ${exportName} of ${module.toString()} (#${id})`
  checkNoFunctions(args, name)
  const pin = new Pin(name)
  // Calls that found the pool's queue full (maxQueued) wait for room, as runInExecutor() does, and in order:
  // while any waits, later calls queue behind it. Each try says whether it is done (sent, or failed).
  const backlog: Array<() => boolean> = []
  const pump = (): void => {
    while (backlog.length > 0 && backlog[0]!()) backlog.shift()
    if (backlog.length > 0) void executor.whenRoom().then(pump)
  }
  const run = (fn: TaskRef<AnyFn>, fnArgs: unknown[], options: CallOptions = {}): LoopFuture<unknown> => {
    const loopFuture = new LoopFuture<unknown>()
    const attempt = (): boolean => {
      if (loopFuture.done()) return true
      try {
        follow(executor.submitPinned(pin, fn, fnArgs, options), loopFuture)
      } catch (error) {
        if (error instanceof QueueFullError) return false
        loopFuture.setException(new Error(`${name}: ${(error as Error).message}`, { cause: error }))
      }
      return true
    }
    if (backlog.length === 0 && attempt()) return loopFuture
    backlog.push(attempt)
    if (backlog.length === 1) void executor.whenRoom().then(pump)
    return wrapFuture(loopFuture, options.signal ? { signal: options.signal } : {})
  }
  try {
    await run(construct, [id, moduleUrl(module), exportName, args])
  } catch (error) {
    executor.unpin(pin)
    throw error
  }
  let disposed: Promise<void> | undefined
  const free = (): Promise<void> => (disposed ??= Promise.resolve(run(dispose, [id])).then(() => executor.unpin(pin), () => executor.unpin(pin)))
  const refuse = (what: string): LoopFuture<never> => failed(new Error(`${name} was disposed: ${what} was not sent`))
  /** A proxy whose calls go with `options`; a view other than the first keeps the first alive (`root`), which frees the object once collected. */
  const view = (options: CallOptions, root?: object): Remote<Made<E>> => {
    const methods = new Map<string, unknown>()
    const proxy = new Proxy({ root } as unknown as Remote<Made<E>>, {
      get(_, key) {
        if (key === Symbol.asyncDispose) return free
        // Not thenable itself, so `await remote(...)` gives the proxy.
        if (typeof key !== 'string' || key === 'then') return undefined
        let member = methods.get(key)
        if (!member) {
          // Called, it is a method call; awaited, a property read.
          const method = (...callArgs: unknown[]): LoopFuture<unknown> => {
            if (disposed) return refuse(`the call of ${key}()`)
            checkNoFunctions(callArgs, `${name}.${key}`)
            return run(call, [id, name, key, callArgs], options)
          }
          member = Object.assign(method, {
            then: (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
              (disposed ? refuse(`the read of ${key}`) : run(read, [id, name, key], options)).then(onFulfilled, onRejected),
          })
          methods.set(key, member)
        }
        return member
      },
    })
    views.set(proxy, (more) => view(more, root ?? proxy))
    return proxy
  }
  const proxy = view({})
  // Forgotten without being disposed: free it anyway, so its worker can be recycled again.
  forgotten.register(proxy, free, proxy)
  return proxy
}

const forgotten = new FinalizationRegistry<() => Promise<void>>((free) => void free())
/** How to make another view of each remote object's proxy. */
const views = new WeakMap<object, (options: CallOptions) => object>()

/**
 * A view of `object` (a proxy from remote()) whose method calls and property
 * reads are submitted with `options`, as submitWith() does: `signal` cancels
 * a call that has not started and interrupts one that runs; `timeoutMs`
 * interrupts a call that runs longer. A call that ignores its interrupt for
 * the pool's `interruptGraceMs` stops its worker, and the object is gone with
 * it. The view is the same object: disposing either frees it.
 */
export function withOptions<R extends Remote<unknown>>(object: R, options: CallOptions): R {
  const makeView = views.get(object)
  if (!makeView) throw new TypeError(`withOptions() needs a remote object made by remote(), got ${inspect(object, { depth: 0 })}`)
  return makeView(checkOptions(options, callSchema, 'withOptions()', notForCalls)) as R
}

function failed(error: Error): LoopFuture<never> {
  const future = new LoopFuture<never>()
  future.setException(error)
  return future
}
