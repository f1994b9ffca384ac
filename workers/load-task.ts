// Turns a TaskSpec back into a function inside a worker.

import { pathToFileURL } from 'node:url'
import { types } from 'node:util'
import { reportProgress } from '../src/wire/task-context.js'
import type { TaskSpec } from '../src/wire/task-spec.js'
import { plainOnly } from './stream-runner.js'

type Fn = (...args: unknown[]) => unknown

export async function loadTask(spec: TaskSpec): Promise<Fn> {
  return 'source' in spec ? compile(spec.source) : asTask(await importExport(spec.module, spec.exportName))
}

/** The `this` of a task: one declared `this: ProgressReporter<P>` calls this.reportProgress(value). */
const taskThis = Object.freeze({ reportProgress })

/**
 * The function as the runner calls it. Only a function whose source says
 * `this` is bound to taskThis (no other can read it): the rest run as plain
 * calls, at no cost, their stack frames named as before (`at fib`, where a
 * receiver makes it `at Object.fib`). A class is left as it is: it is
 * constructed (remote objects), never called. A generator function runs
 * only through stream() (plainOnly), bound the same way.
 */
function asTask(fn: Fn, source = Function.prototype.toString.call(fn)): Fn {
  const task = /\bthis\b/.test(source) && !/^class[\s{]/.test(source) ? fn.bind(taskThis) : fn
  return types.isGeneratorFunction(fn) ? plainOnly(fn, task) : task
}

async function importExport(module: string, exportName: string): Promise<Fn> {
  let namespace: Record<string, unknown>
  try {
    namespace = await importModule(module)
  } catch (error) {
    throw new Error(`cannot load task module ${module} (for its export '${exportName}'): ${(error as Error).message}`, { cause: error })
  }
  const fn = namespace[exportName]
  if (fn === undefined) {
    const has = Object.keys(namespace).filter((k) => typeof namespace[k] === 'function')
    throw new Error(`task module ${module} has no export '${exportName}' (its function exports: ${has.join(', ') || 'none'})`)
  }
  if (typeof fn !== 'function') throw new TypeError(`export '${exportName}' of ${module} is a ${typeof fn}, not a function`)
  return fn as Fn
}

async function importModule(module: string): Promise<Record<string, unknown>> {
  if (isFile(module)) await registerTsx()
  return import(module)
}

/** A file of the application's (not a package or a built-in): under tsx, './tasks.js' may be tasks.ts. */
function isFile(module: string): boolean {
  return /^(file:|\.{0,2}\/)/.test(module) || /\.[cm]?tsx?$/.test(module)
}

// tsx's loader, given to the application with --import, does not reach
// worker threads on Node 20; register it here when the application uses it,
// for every file, so that a module named as TypeScript imports name it
// ('./tasks.js' for tasks.ts) loads on threads as it does in child processes.
let tsx: Promise<boolean> | undefined
function registerTsx(): Promise<boolean> {
  tsx ??= (async () => {
    const loader = process.execArgv.find((arg) => arg === 'tsx' || arg.startsWith('tsx/') || /[\\/]tsx[\\/]dist[\\/]/.test(arg))
    if (!loader) return false
    const api = loader.includes('dist')
      ? new URL('esm/api/index.mjs', new URL('./', loader.startsWith('file:') ? loader : pathToFileURL(loader))).href
      : 'tsx/esm/api'
    const { register } = (await import(api)) as { register: () => unknown }
    register()
    return true
  })()
  return tsx
}

function compile(source: string): Fn {
  let fn: Fn
  try {
    fn = new Function(`return (${source})`)() as Fn
  } catch {
    // Method shorthand (`{ f(x) {...} }.f`) is not an expression on its own.
    fn = new Function(`return ({ ${source} })`)() as Fn
    fn = Object.values(fn)[0] as Fn
  }
  const task = asTask(fn, source)
  // A generator's body runs at each next(), not in this call: there is nothing for the wrapper below to explain.
  if (types.isGeneratorFunction(fn)) return task
  return (...args) => {
    try {
      const value = task(...args)
      return value instanceof Promise ? value.catch((e: unknown) => Promise.reject(explainFreeVariable(e))) : value
    } catch (error) {
      throw explainFreeVariable(error)
    }
  }
}

/** A ReferenceError in a shipped function almost always means it captured a variable. */
function explainFreeVariable(error: unknown): unknown {
  const name = error instanceof ReferenceError && /^(\S+) is not defined$/.exec(error.message)?.[1]
  if (!name) return error
  return new ReferenceError(
    `${name} is not defined in the worker: a function submitted by its source cannot use variables from its enclosing scope. ` +
      `Pass ${name} as an argument, or export the function from a module and submit fromModule(...).`,
    { cause: error },
  )
}
