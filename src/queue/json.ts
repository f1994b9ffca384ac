// Jobs and their results cross Redis as JSON, which quietly turns a Date into
// a string, a Map into {} and NaN into null. Refuse such values instead.

import { inspect } from 'node:util'

/** Throws a TypeError naming the first part of `value` that JSON would not carry as it is; `value` itself may be undefined. */
export function checkJson(value: unknown, what: string): void {
  const problem = value === undefined ? undefined : findProblem(value, what, new Set())
  if (problem) throw new TypeError(`${problem}: values cross Redis as JSON, so use plain objects, arrays, strings, finite numbers, booleans and null`)
}

function findProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON turns into null`
    case 'object':
      break
    default:
      return `${path} is ${typeof value === 'undefined' ? 'undefined, which JSON drops or turns into null' : `a ${typeof value} (${inspect(value)})`}`
  }
  if (value === null) return undefined
  if (seen.has(value)) return `${path} refers back to itself`
  const proto = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `${path} is a ${proto?.constructor?.name ?? 'class instance'}, which JSON does not keep`
  }
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = findProblem(value[i], `${path}[${i}]`, seen)
        if (problem) return problem
      }
    } else {
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue // JSON drops it, and a missing property reads as undefined
        const problem = findProblem(item, `${path}.${key}`, seen)
        if (problem) return problem
      }
    }
  } finally {
    seen.delete(value)
  }
  return undefined
}
