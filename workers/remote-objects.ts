// The worker side of remote objects (src/proxy/remote.ts): the instances
// living in this worker, and the tasks that make, use and free them. The pool
// runs every task of one object on this worker, in order.

import { loadTask } from './load-task.js'

const objects = new Map<number, Record<PropertyKey, unknown>>()

function object(id: number, name: string): Record<PropertyKey, unknown> {
  const found = objects.get(id)
  if (!found) throw new Error(`${name} does not exist in this worker (it was disposed, or never made)`)
  return found
}

/** Makes the object: `new Export(...args)` for a class, `await Export(...args)` for a factory. */
export async function construct(id: number, module: string, exportName: string, args: unknown[]): Promise<void> {
  const made = await loadTask({ module, exportName }) // a class is a function too
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(made))
  const instance = isClass ? Reflect.construct(made, args) : await made(...args)
  objects.set(id, instance as Record<PropertyKey, unknown>)
}

export function call(id: number, name: string, method: string, args: unknown[]): unknown {
  const target = object(id, name)
  const fn = target[method]
  if (typeof fn !== 'function') throw new TypeError(`${name}.${method} is a ${typeof fn}, not a method`)
  return (fn as (...a: unknown[]) => unknown).apply(target, args)
}

export function read(id: number, name: string, property: string): unknown {
  return object(id, name)[property]
}

/** Frees the object, calling its own dispose method if it has one. */
export async function dispose(id: number): Promise<void> {
  const target = objects.get(id)
  objects.delete(id)
  const free = target?.[Symbol.asyncDispose] ?? target?.[Symbol.dispose]
  if (typeof free === 'function') await (free as () => unknown).call(target)
}
