// wrapSync: a synchronous module, loaded inside the pool's workers, whose
// every function returns a LoopFuture instead of blocking.

import { Executor } from '../executors/executor.js'
import { moduleUrl, taskRef, type AnyFn } from '../executors/task.js'
import type { LoopFuture } from '../loop/loop-future.js'
import { runInExecutor } from '../loop/run-in-executor.js'
import type { Received } from '../wire/channel.js'
import { checkNoFunctions } from './check-args.js'

/** The functions of module M, each returning a LoopFuture of its result. */
export type AsyncModule<M> = {
  readonly [K in keyof M as M[K] extends AnyFn ? K : never]: M[K] extends (...args: infer A) => infer R ? (...args: A) => LoopFuture<Received<Awaited<R>>> : never
}

/**
 * `wrapSync<typeof import('node:zlib')>(pool, 'node:zlib').gzipSync(data)`:
 * the module (a built-in, a package, an absolute path or a URL) is imported
 * by the workers, not shipped; a module or name that is missing, or not a
 * function, fails its first call, naming it.
 */
export function wrapSync<M>(executor: Executor, specifier: string | URL): AsyncModule<M> {
  if (!(executor instanceof Executor)) throw new TypeError('wrapSync() needs an Executor (a ThreadPoolExecutor, a ProcessPoolExecutor) to run the module in')
  moduleUrl(specifier)
  const functions = new Map<string, AnyFn>()
  return new Proxy({} as AsyncModule<M>, {
    get(_, name) {
      // Not thenable (so `await wrapSync(...)` is the proxy itself), and no symbols.
      if (typeof name !== 'string' || name === 'then') return undefined
      let fn = functions.get(name)
      if (!fn) {
        const ref = taskRef<(...args: unknown[]) => unknown>(specifier, name)
        fn = (...args: unknown[]) => {
          checkNoFunctions(args, `${specifier.toString()}#${name}`)
          return runInExecutor(executor, ref, ...args)
        }
        functions.set(name, fn)
      }
      return fn
    },
  })
}
