// What a task throws crosses threads, processes and Redis as a plain record
// made here; structured clone alone would keep only the built-in classes,
// message and stack, and JSON not even those.
//
// Neither side trusts the other. Encoding reads the thrown value as an
// adversary may have built it (any getter or Proxy trap may throw, causes may
// loop) and keeps what the channel can carry, noting in the message what it
// could not. Decoding takes classes from an allow-list and defines, never
// assigns, what the record says, so no name or key reaches Object.prototype.
//
// A class is what the error was where it was thrown, never what its name
// says: an error of a task's own named CancelledError, or a DOMException named
// TimeoutError (a fetch() that timed out), is no cancellation and no pool
// timeout, and comes back as the Error it was, with that name.

import { types } from 'node:util'
import { ERROR_BRAND, futuresErrors, JobLost, WorkerLost, type FuturesError } from '../concurrent/errors.js'
import { carry, type Channel } from './channel.js'

export interface EncodedError {
  name: string
  /**
   * The class it was, when the encoder could tell: this library's by its
   * brand, else the nearest built-in. Without it (another writer, an older
   * worker) only a built-in's name picks a class.
   */
  class?: string
  message: string
  stack?: string
  props: Record<string, unknown>
  /** Set (possibly to an encoded undefined) when the error had a `cause`. */
  cause?: EncodedValue
  /** An AggregateError's errors. */
  errors?: EncodedValue[]
}

/** A thrown value: an Error, or anything else that was thrown (`value` absent when JSON dropped an undefined). */
export type EncodedValue = { error: EncodedError } | { value?: unknown }

/** Causes and errors nested deeper than this are cut (with a note), as are copies of nested data. */
const MAX_DEPTH = 16
/** At most this many causes and aggregated values in one encoding (AggregateErrors can branch), and this many values copied one by one. */
const MAX_NESTED = 128
const MAX_COPIED = 10_000

/** Keys with a field of their own: never taken from, or applied as, own properties. */
const RESERVED = new Set(['name', 'message', 'stack', 'cause'])

/** `thrown` as a record that can travel on `channel`; never throws. */
export function encodeThrown(thrown: unknown, channel: Channel): EncodedValue {
  return new Encoder(channel).value(thrown, 0)
}

class Encoder {
  /** The errors and objects being encoded above the current one: meeting one again is a cycle. */
  readonly #path = new Set<unknown>()
  #nestedCount = 0
  #copied = 0

  constructor(readonly channel: Channel) {}

  value(thrown: unknown, depth: number): EncodedValue {
    if (isError(thrown)) return { error: this.#error(thrown, depth) }
    const notes: string[] = []
    const copy = this.#copy(thrown, 'the thrown value', notes, depth)
    return copy ?? { error: { name: 'Error', message: notes.join('; '), props: {} } }
  }

  #error(error: object, depth: number): EncodedError {
    const notes: string[] = []
    this.#path.add(error)
    const kind = classOf(error)
    const name = this.#text(error, 'name', notes) ?? kind ?? 'Error'
    const message = this.#text(error, 'message', notes) ?? ''
    const stack = this.#read(error, 'stack', notes)?.value
    const encoded: EncodedError = { name, ...(kind === undefined ? {} : { class: kind }), message, props: {}, ...(typeof stack === 'string' ? { stack } : {}) }
    const aggregate = guard(() => isAggregate(error)) === true
    let keys: string[] = []
    try {
      keys = Object.keys(error)
    } catch (thrown) {
      notes.push(`listing its properties threw ${describe(thrown)}`)
    }
    for (const key of keys) {
      if (RESERVED.has(key) || (aggregate && key === 'errors')) continue
      const read = this.#read(error, key, notes)
      const copy = read && this.#copy(read.value, `property ${key}`, notes, depth + 1)
      if (copy) defineOwn(encoded.props, key, copy.value)
    }
    if (guard(() => 'cause' in error) === true) {
      const read = this.#read(error, 'cause', notes)
      const cause = read && this.#nested(read.value, depth, 'its cause', notes)
      if (cause) encoded.cause = cause
    }
    if (aggregate) encoded.errors = this.#aggregated(error, depth, notes)
    this.#path.delete(error)
    if (notes.length > 0) encoded.message = `${message}${message ? ' ' : ''}[${notes.join('; ')}]`
    return encoded
  }

  #aggregated(error: object, depth: number, notes: string[]): EncodedValue[] {
    const read = this.#read(error, 'errors', notes)
    let list: unknown[] = []
    try {
      // Those past the budget are not read: a note says so.
      if (read && Array.isArray(read.value)) list = Array.prototype.slice.call(read.value, 0, MAX_NESTED + 1)
    } catch (thrown) {
      notes.push(`reading its errors threw ${describe(thrown)}`)
    }
    const errors: EncodedValue[] = []
    for (const [i, item] of list.entries()) {
      const encoded = this.#nested(item, depth, `errors[${i}]`, notes)
      if (!encoded) break
      errors.push(encoded)
    }
    return errors
  }

  /** A cause or an aggregated error, unless it loops, nests too deep or the budget is spent. */
  #nested(value: unknown, depth: number, what: string, notes: string[]): EncodedValue | undefined {
    if (this.#path.has(value)) notes.push(`${what} refers back to an error it is part of`)
    else if (depth + 1 >= MAX_DEPTH) notes.push(`${what} not sent: errors nest more than ${MAX_DEPTH} deep`)
    else if (this.#nestedCount++ >= MAX_NESTED) notes.push(`${what} not sent: more than ${MAX_NESTED} causes and errors`)
    else return this.value(value, depth + 1)
    return undefined
  }

  /** What the channel delivers of `value`: whole, or, for an object it cannot carry, the parts it can; undefined (noted) if none. */
  #copy(value: unknown, what: string, notes: string[], depth: number): { value: unknown } | undefined {
    let reason: unknown
    try {
      return { value: carry(value, this.channel) }
    } catch (thrown) {
      reason = thrown
    }
    if (typeof value === 'object' && value !== null && !this.#path.has(value) && depth < MAX_DEPTH && this.#copied < MAX_COPIED) {
      const parts = this.#copyParts(value, what, notes, depth)
      if (parts) return parts
    }
    notes.push(`${what} not sent: ${this.#path.has(value) ? 'it refers back to itself' : `${describe(value)} (${describe(reason)})`}`)
    return undefined
  }

  /** An object the channel refused as a whole, copied key by key into a plain object or array. */
  #copyParts(value: object, what: string, notes: string[], depth: number): { value: unknown } | undefined {
    let keys: string[]
    let array: boolean
    try {
      array = Array.isArray(value)
      keys = Object.keys(value)
    } catch {
      return undefined
    }
    this.#path.add(value)
    const copy: object = array ? [] : {}
    for (const key of keys) {
      this.#copied++
      const read = this.#read(value, key, notes, what)
      const part = read && this.#copy(read.value, array ? `${what}[${key}]` : `${what}.${key}`, notes, depth + 1)
      if (part) defineOwn(copy, key, part.value)
    }
    this.#path.delete(value)
    return { value: copy }
  }

  /** `object[key]`, or undefined (noted) if reading it threw. */
  #read(object: object, key: string, notes: string[], what = 'its'): { value: unknown } | undefined {
    try {
      return { value: (object as Record<string, unknown>)[key] }
    } catch (thrown) {
      notes.push(`reading ${what === 'its' ? `its ${key}` : `${what}.${key}`} threw ${describe(thrown)}`)
      return undefined
    }
  }

  /** A string field: a string as it is, anything else as String() makes it, undefined if there is none. */
  #text(error: object, key: 'name' | 'message', notes: string[]): string | undefined {
    const read = this.#read(error, key, notes)
    if (read === undefined || read.value === undefined) return undefined
    if (typeof read.value === 'string') return read.value
    const text = guard(() => String(read.value))
    if (typeof text === 'string') return text
    notes.push(`its ${key} is ${describe(read.value)}`)
    return undefined
  }
}

/** The built-in classes an error may come back as, nearest first: the first one it is an instance of is what it was. */
const builtins = [AggregateError, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, Error]

/**
 * The name of the class `error` was, of those the decoder knows: this
 * library's if it carries the brand (which a task's own `name` cannot fake by
 * accident), else the nearest built-in; undefined if neither can be read (a
 * Proxy whose traps throw, an error of another realm).
 */
function classOf(error: object): string | undefined {
  const brand = guard(() => (error as Record<symbol, unknown>)[ERROR_BRAND])
  if (typeof brand === 'string' && Object.hasOwn(futuresErrors, brand)) return brand
  return builtins.find((C) => guard(() => error instanceof C) === true)?.name
}

/**
 * An AggregateError of this realm, or of another (a vm context's is no
 * instance of this one's): a native error made by a constructor so named,
 * holding its list of errors. May throw (a Proxy): guard it.
 */
function isAggregate(error: object): boolean {
  if (error instanceof AggregateError) return true
  if (!types.isNativeError(error) || !Array.isArray(Object.getOwnPropertyDescriptor(error, 'errors')?.value)) return false
  for (let proto = Object.getPrototypeOf(error) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const made = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown
    if (typeof made === 'function' && made.name === 'AggregateError') return true
  }
  return false
}

/** Apart: an instanceof that throws (a Proxy in the prototype chain) must not hide a native error. */
function isError(value: unknown): value is object {
  return guard(() => value instanceof Error) === true || types.isNativeError(value)
}

/** What `fn` returns, or undefined if it throws. */
function guard<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch {
    return undefined
  }
}

/** A short description of any value, for a note; never throws. */
function describe(value: unknown): string {
  const text = guard(() => {
    switch (typeof value) {
      case 'bigint':
        return `a bigint (${value}n)`
      case 'symbol':
        return `a symbol (${String(value)})`
      case 'function':
        return 'a function'
      case 'string':
        return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value)
      case 'object': {
        if (value === null) return 'null'
        const message = isError(value) ? (value as Error).message : undefined
        return typeof message === 'string' ? `${(value as Error).name}: ${message}` : Object.prototype.toString.call(value)
      }
      default:
        return String(value)
    }
  })
  return typeof text === 'string' ? text : 'a value that cannot be described'
}

/** Sets an own property, whatever its key: `__proto__` included, never through a setter. */
function defineOwn(target: object, key: string, value: unknown, enumerable = true): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true })
}

/** The built-in classes an error may come back as, by name: a record's `class`, or, without one, its name. */
const builtinClasses = new Map<string, (message: string) => Error>([
  ...builtins.map((C) => [C.name, (m: string) => new (C as ErrorConstructor)(m)] as const),
  // AggregateError takes its errors first: this entry replaces the one above.
  ['AggregateError', (m: string) => new AggregateError([], m)],
])

/** Every class an error may come back as, by a record's `class`; anything else is an Error with its name. */
const classes = new Map<string, (message: string) => Error>([
  ...builtinClasses,
  // WorkerLost and JobLost take more than a message: their entries below replace these.
  ...Object.entries(futuresErrors).map(([name, C]) => [name, (m: string) => new (C as typeof FuturesError)(m)] as const),
  ['WorkerLost', (m: string) => new WorkerLost(m, {})],
  ['JobLost', (m: string) => new JobLost(m, { jobId: '', started: false })],
])

/**
 * Re-creates a thrown value from any input: a record that is not one of
 * ours decodes to a plain Error saying so. `submitStack` (the frames of the
 * submit call) is appended to the stack, so both sides of the trip show.
 */
export function decodeThrown(encoded: unknown, submitStack?: string): unknown {
  return decode(encoded, 0, submitStack?.slice(submitStack.indexOf('\n') + 1))
}

function decode(encoded: unknown, depth: number, frames?: string): unknown {
  if (!isRecord(encoded)) return new Error(`an error came back in a form this library does not write (${describe(encoded)})`)
  if (!Object.hasOwn(encoded, 'error')) return own(encoded, 'value')
  const record = own(encoded, 'error')
  if (!isRecord(record)) return new Error(`an error came back in a form this library does not write (${describe(record)})`)
  const name = text(own(record, 'name')) ?? 'Error'
  const message = text(own(record, 'message')) ?? ''
  const kind = own(record, 'class')
  const make = typeof kind === 'string' ? classes.get(kind) : builtinClasses.get(name)
  const error = (make ?? builtinClasses.get('Error')!)(message)
  if (error.name !== name) defineOwn(error, 'name', name, false)
  const props = own(record, 'props')
  if (isRecord(props)) for (const key of Object.keys(props)) if (!RESERVED.has(key)) defineOwn(error, key, props[key])
  if (Object.hasOwn(record, 'cause') && depth < MAX_DEPTH) defineOwn(error, 'cause', decode(own(record, 'cause'), depth + 1), false)
  const errors = own(record, 'errors')
  if (Array.isArray(errors) && depth < MAX_DEPTH) defineOwn(error, 'errors', errors.map((item) => decode(item, depth + 1)), false)
  // Assigned: the error is one of ours, whose own `stack` V8 made (defining it is ten times slower).
  const stack = text(own(record, 'stack')) ?? `${name}: ${message}`
  error.stack = frames ? `${stack}\n    --- submitted from ---\n${frames}` : stack
  return error
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
