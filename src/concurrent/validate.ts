// Validation at the door: every option and argument a user gives is checked
// here before anything acts on it, and a mistake throws a TypeError (wrong
// kind of value, or a name not among the choices, as Node does) or a
// RangeError (right kind, out of range) that names it, says what was wrong
// and what would do. Nothing unchecked reaches a timer, a
// worker or a child process, where it would fail later, far from its cause.

import { inspect } from 'node:util'
import type { TransferListItem } from 'node:worker_threads'

/** The most workers one pool may have: beyond it, the pool's shared task slots would not fit in memory. */
export const MAX_WORKERS = 1024
/** The longest delay setTimeout honours; a longer one fires after 1 ms (see long-timer.ts). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Checks one value, named `name` in its errors; returns it as the code uses it. */
export type Check<T> = (value: unknown, name: string) => T
/** A check for every option of `O`; adding an option without one is a type error. */
export type Schema<O> = { readonly [K in keyof O]-?: Check<O[K]> }

export function show(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 80 })
}

function wrongType(name: string, expected: string, value: unknown, hint = ''): TypeError {
  return new TypeError(`${name} must be ${expected}, got ${show(value)}${hint}`)
}

function outOfRange(name: string, expected: string, value: unknown, hint = ''): RangeError {
  return new RangeError(`${name} must be ${expected}, got ${show(value)}${hint}`)
}

/** No options given: nothing to allocate. */
const NONE = Object.freeze({})

/**
 * Checks an options object against `schema`: undefined is no options; an
 * unknown key is refused with the nearest known one, or with where it belongs
 * (`elsewhere`: key → explanation). Returns only the keys given.
 */
export function checkOptions<O extends object>(options: unknown, schema: Schema<O>, door: string, elsewhere: Readonly<Record<string, string>> = {}): O {
  if (options === undefined) return NONE as O
  return checkKeys(options, schema, `the options of ${door}`, (key) => `${door} option ${key}`, (key) => unknownOption(key, Object.keys(schema), door, elsewhere))
}

function checkKeys<O extends object>(options: unknown, schema: Schema<O>, what: string, nameOf: (key: string) => string, unknown: (key: string) => TypeError): O {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw wrongType(what, 'an object', options)
  for (const key of Object.keys(options)) if (!Object.hasOwn(schema, key)) throw unknown(key)
  const checked: Record<string, unknown> = {}
  for (const key of Object.keys(schema) as Array<keyof O & string>) {
    const value = (options as Record<string, unknown>)[key]
    if (value === undefined) continue
    const normalised = schema[key](value, nameOf(key))
    if (normalised !== undefined) checked[key] = normalised
  }
  return checked as O
}

function unknownOption(key: string, known: string[], door: string, elsewhere: Readonly<Record<string, string>>): TypeError {
  const where = Object.hasOwn(elsewhere, key) ? elsewhere[key] : undefined
  if (where) return new TypeError(`unknown option '${key}' for ${door}: ${where}`)
  const near = nearest(key, known)
  const advice = near ? `did you mean '${near}'?` : `the options are ${known.map((k) => `'${k}'`).join(', ')}`
  return new TypeError(`unknown option '${key}' for ${door}: ${advice}`)
}

/** The known name closest to `key` in edit distance, if it is close enough to be the one meant. */
function nearest(key: string, known: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const name of known) {
    const d = distance(key.toLowerCase(), name.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [name, d]
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = row
  }
  return previous[b.length]!
}

/** An integer from `min` to `max`; `maxName` names the constant behind `max`, for the error. */
export function integer(min: number, max = Infinity, maxName?: string): Check<number> {
  const expected = max === Infinity ? (min === 1 ? 'an integer greater than 0' : `an integer >= ${min}`) : `an integer from ${min} to ${max}${maxName ? ` (${maxName})` : ''}`
  return (value, name) => {
    if (typeof value !== 'number') throw wrongType(name, expected, value)
    if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, expected, value)
    return value
  }
}

export const positiveInteger = integer(1)

/** BullMQ's largest priority. Every executor takes the same range, so a priority means the same on each. */
export const MAX_PRIORITY = 2 ** 21 - 1
/** A task's priority: lower runs first, 0 (the default) first of all. */
export const priority: Check<number> = integer(0, MAX_PRIORITY, "BullMQ's largest; lower runs first")

/** Milliseconds: a number >= 0; Infinity means never. */
export const milliseconds: Check<number> = (value, name) => {
  const expected = 'a number of milliseconds >= 0 (Infinity: no limit)'
  if (typeof value !== 'number') throw wrongType(name, expected, value)
  if (Number.isNaN(value) || value < 0) throw outOfRange(name, expected, value)
  return value
}

/** A timeout argument: undefined or null wait forever, as Infinity does. */
export function checkTimeout(timeoutMs: unknown, name = 'timeout'): number {
  return timeoutMs === undefined || timeoutMs === null ? Infinity : milliseconds(timeoutMs, name)
}

/** A time on the loop's clock (performance.now()): any number but NaN and -Infinity; Infinity: never. */
export function checkWhen(when: unknown, name: string): number {
  if (typeof when !== 'number') throw wrongType(name, 'a time() value', when)
  if (Number.isNaN(when) || when === -Infinity) throw outOfRange(name, 'a time() value', when)
  return when
}

/** A finite number of at least `min`; `why` says where the minimum comes from. */
export function atLeast(min: number, why = ''): Check<number> {
  const expected = `a finite number >= ${min}${why}`
  return (value, name) => {
    if (typeof value !== 'number') throw wrongType(name, expected, value)
    if (!Number.isFinite(value) || value < min) throw outOfRange(name, expected, value)
    return value
  }
}

export const boolean: Check<boolean> = (value, name) => {
  if (typeof value !== 'boolean') throw wrongType(name, 'true or false', value)
  return value
}

/** A string without NUL characters, which no thread name, flag or environment can hold. */
export const string: Check<string> = (value, name) => {
  if (typeof value !== 'string') throw wrongType(name, 'a string', value)
  if (value.includes('\0')) throw outOfRange(name, 'a string without NUL (\\0) characters', value)
  return value
}

export function oneOf<const C extends readonly string[]>(...choices: C): Check<C[number]> {
  const expected = choices.map((c) => `'${c}'`).join(' or ')
  return (value, name) => {
    if (!choices.includes(value as string)) throw wrongType(name, expected, value) // as Node does for a bad choice
    return value as C[number]
  }
}

export function func<F extends (...args: never[]) => unknown>(value: unknown, name: string): F {
  if (typeof value !== 'function') throw wrongType(name, 'a function', value)
  return value as F
}

export const signal: Check<AbortSignal> = (value, name) => {
  if (!(value instanceof AbortSignal)) throw wrongType(name, 'an AbortSignal', value, ', such as AbortSignal.timeout(ms) or an AbortController\'s signal')
  return value
}

/** An array (not any iterable: a string would spread into its characters). */
export function array(value: unknown, name: string, of = 'values'): unknown[] {
  if (!Array.isArray(value)) throw wrongType(name, `an array of ${of}`, value, typeof value === 'string' ? ` (a string: wrap it, [${show(value)}])` : '')
  return value
}

export const strings: Check<string[]> = (value, name) => array(value, name, 'strings').map((item, i) => string(item, `${name}[${i}]`))

/** Values that must reach a worker as they are: each must survive structuredClone. */
export const cloneables: Check<unknown[]> = (value, name) => {
  const items = array(value, name)
  items.forEach((item, i) => {
    try {
      structuredClone(item)
    } catch (error) {
      const hint = typeof item === 'function' ? 'functions cannot be sent to a worker; pass data, and build the function inside the worker' : (error as Error).message
      throw new TypeError(`${name}[${i}] cannot be sent to a worker (${show(item)}): ${hint}`, { cause: error })
    }
  })
  return items
}

/** An environment: names (no '=' or NUL) to strings (no NUL); undefined leaves a name out. */
export const environment: Check<Record<string, string | undefined>> = (value, name) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw wrongType(name, 'an object of strings', value)
  for (const [key, item] of Object.entries(value)) {
    if (key === '' || key.includes('=') || key.includes('\0')) throw outOfRange(`${name} names`, "non-empty strings without '=' or NUL (\\0)", key)
    if (item !== undefined) string(item, `${name}.${key}`)
  }
  return value as Record<string, string | undefined>
}

/** A nested options object, checked like the top level. */
export function nested<O extends object>(schema: Schema<O>): Check<O> {
  const known = Object.keys(schema)
  return (value, name) =>
    checkKeys(value, schema, name, (key) => `${name}.${key}`, (key) => {
      const near = nearest(key, known)
      return new TypeError(`${name} has no option '${key}': ${near ? `did you mean '${near}'?` : `its options are ${known.map((k) => `'${k}'`).join(', ')}`}`)
    })
}

/** true, false, or an options object that `check` checks (true is that object with its defaults). */
export function flagOr<O>(check: Check<O>): Check<boolean | O> {
  return (value, name) => (typeof value === 'boolean' ? value : check(value, name))
}

/** Two options that bound a range: `low` may not pass `high`. */
export function checkRange(low: number, high: number, lowName: string, highName: string): void {
  if (low > high) throw outOfRange(lowName, `at most ${highName} (${high})`, low)
}

/** A transfer list: objects to move to a worker (ArrayBuffer, MessagePort, ...), in an array. */
export const transferables: Check<TransferListItem[]> = (value, name) =>
  array(value, name, 'transferables (ArrayBuffer, MessagePort, ...)').map((item, i) => {
    if (ArrayBuffer.isView(item)) throw new TypeError(`${name}[${i}] is a ${item.constructor.name}, which cannot be moved: list its .buffer instead`)
    if (item instanceof SharedArrayBuffer) throw new TypeError(`${name}[${i}] is a SharedArrayBuffer, which is shared, not moved: pass it as an argument and leave it out of ${name}`)
    if (item === null || typeof item !== 'object') throw wrongType(`${name}[${i}]`, 'a transferable object (ArrayBuffer, MessagePort, ...)', item)
    return item as TransferListItem
  })
