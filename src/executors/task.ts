// What a task names: a function exported from a module (a TaskRef, resolved
// inside the worker) or a self-contained function shipped by its source.

import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { inspect } from 'node:util'
import { show, string } from '../concurrent/validate.js'
import type { Received } from '../wire/channel.js'
import type { TaskSpec } from '../wire/task-spec.js'

/** Any function. A task that uses `this` gets a ProgressReporter. */
export type AnyFn = (...args: never[]) => unknown

/**
 * The `this` of a task in a pool worker. Declare it to report typed progress:
 * `function resize(this: ProgressReporter<number>, path: string) { this.reportProgress(0.5) }`
 * (a function, not an arrow function, which has no `this` of its own).
 */
export interface ProgressReporter<P> {
  /** See reportProgress() in `concurrent-futures/worker`. */
  reportProgress(value: P): void
}

const kTaskRef = Symbol.for('concurrent-futures.TaskRef')

/** A function exported from a module, named so a worker can import it. */
export interface TaskRef<F extends AnyFn> {
  readonly [kTaskRef]: true
  readonly module: string
  readonly exportName: string
  /** Carries the function's type only; never set. */
  readonly __type?: F
}

/** A function given to submit() or map(): a TaskRef or a self-contained function. */
export type Task<F extends AnyFn> = F | TaskRef<F>
/** The parameter types of a task function. */
export type ArgsOf<F> = F extends (...args: infer A) => unknown ? A : never
/** What a task's future holds: its return value, awaited, as it arrives from the worker. */
export type ResultOf<F> = F extends (...args: never[]) => infer R ? Received<Awaited<R>> : never

/** What a task reports as progress, as it arrives: P if it declares `this: ProgressReporter<P>`, else unknown. */
export type ProgressOf<F> = ThisParameterType<F> extends ProgressReporter<infer P> ? Received<P> : unknown
/** A task for stream(): a generator function, sync (`function*`) or async (`async function*`), taking `A`. */
export type StreamFn<A extends unknown[] = never[]> = (...args: A) => Generator<unknown, unknown, never> | AsyncGenerator<unknown, unknown, never>
/** What a generator task yields, item by item, as it arrives from the worker. */
export type YieldOf<F> = F extends (...args: never[]) => Generator<infer Y, unknown, never> | AsyncGenerator<infer Y, unknown, never> ? Received<Y> : never
/** What a generator task returns (the `result` of its stream), as it arrives from the worker. */
export type ReturnOf<F> = F extends (...args: never[]) => Generator<unknown, infer R, never> | AsyncGenerator<unknown, infer R, never> ? Received<R> : never

/** The exported functions of module type `M`, as TaskRefs. */
export type ModuleTasks<M> = {
  readonly [K in keyof M as M[K] extends AnyFn ? K : never]: M[K] extends AnyFn ? TaskRef<M[K]> : never
}

/**
 * References to the functions a module exports, typed by the module:
 * `fromModule<typeof import('./tasks.js')>(new URL('./tasks.js', import.meta.url))`.
 * Accepts a URL, an absolute path, a `node:` builtin or a package name.
 */
export function fromModule<M>(module: string | URL): ModuleTasks<M> {
  const url = moduleUrl(module)
  const refs = new Map<string, TaskRef<AnyFn>>()
  return new Proxy({} as ModuleTasks<M>, {
    get(_, name) {
      if (typeof name !== 'string') return undefined
      let ref = refs.get(name)
      if (!ref) refs.set(name, (ref = taskRef(url, name)))
      return ref
    },
  })
}

/** A reference to the export `exportName` of `module`, to submit by name (fromModule() makes these for every export). */
export function taskRef<F extends AnyFn>(module: string | URL, exportName: string): TaskRef<F> {
  const url = moduleUrl(module)
  if (string(exportName, 'taskRef() exportName') === '') throw new RangeError("taskRef() exportName must name an export, got ''")
  return Object.freeze({ [kTaskRef]: true as const, module: url, exportName })
}

export function isTaskRef(value: unknown): value is TaskRef<AnyFn> {
  return typeof value === 'object' && value !== null && kTaskRef in value
}

/** The module as the workers import it: a URL, or a package name as it is. */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href
  if (typeof module !== 'string' || module === '') {
    throw new TypeError(`a task module must be a URL, an absolute path or a package name, got ${inspect(module)}`)
  }
  if (isAbsolute(module)) return pathToFileURL(module).href
  if (module.startsWith('.')) {
    throw new TypeError(
      `relative module path '${module}' is ambiguous inside a worker: pass new URL('${module}', import.meta.url) instead`,
    )
  }
  return module
}

/** Checks a task given as an option or argument: a function or a TaskRef that can travel (see specOf). */
export function checkTask(value: unknown, name: string): Task<AnyFn> {
  if (typeof value !== 'function' && !isTaskRef(value)) throw new TypeError(`${name} must be a function or a TaskRef from fromModule(), got ${show(value)}`)
  specOf(value as Task<AnyFn>) // a native or bound function cannot travel: say so now
  return value as Task<AnyFn>
}

/** One spec per function or TaskRef, made at its first submit: the pool knows a function by its spec's identity (FunctionIds). */
const specs = new WeakMap<Task<AnyFn>, TaskSpec>()

/** The spec a worker needs to find `task`; throws TypeError for what cannot travel. */
export function specOf(task: Task<AnyFn>): TaskSpec {
  let spec = specs.get(task)
  if (spec) return spec
  if (isTaskRef(task)) spec = { module: task.module, exportName: task.exportName }
  else if (typeof task !== 'function') {
    throw new TypeError(`a task must be a function or a TaskRef from fromModule(), got ${inspect(task)}`)
  } else {
    const source = Function.prototype.toString.call(task)
    if (source.endsWith('{ [native code] }')) {
      throw new TypeError(
        `${task.name || 'this function'} is native or bound, so its source cannot be shipped to a worker: ` +
          'export a function from a module and submit fromModule(...).name',
      )
    }
    spec = { source }
  }
  specs.set(task, spec)
  return spec
}
