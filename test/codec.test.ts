// The error codec against an adversary: any error-shaped value, however its
// name, getters, causes or properties are built, encodes without throwing,
// travels on its channel, and decodes to an Error of the right class, name
// and message, or degrades to a plain Error. Then the same values thrown in
// real workers: the future fails with the decoded error, the pool goes on.

import fc from 'fast-check'
import { deserialize, serialize } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { DeadlockError, fromModule, type Executor } from 'concurrent-futures'
import { futuresErrors, nameErrors, type FuturesError } from '../src/concurrent/errors.js'
import { CancelledError as LoopCancelledError, ExceptionGroup, InvalidStateError as LoopInvalidStateError } from '../src/loop/errors.js'
import { decodeThrown, encodeThrown } from '../src/wire/error-codec.js'
import type { Channel } from '../src/wire/channel.js'
import { buildThrown, prototypeNames, type ErrorSpec, type ThrownSpec, type ValueSpec } from './fixtures/hostile.js'
import { pool, processPool, tasks, until } from './helpers.js'

const hostile = fromModule<typeof import('./fixtures/hostile.js')>(new URL('./fixtures/hostile.ts', import.meta.url))

/** What each channel does to a message on its way. */
const transports: Record<Channel, (message: unknown) => unknown> = {
  clone: (message) => structuredClone(message),
  advanced: (message) => deserialize(serialize(message)),
  json: (message) => JSON.parse(JSON.stringify(message)),
}
const channels = Object.keys(transports) as Channel[]

/** Keys with fields of their own; tested through `name`, `message` and `throwing` rather than as plain properties. */
const RESERVED = ['name', 'message', 'stack', 'cause']
const nameArb = fc.oneof(fc.constantFrom(...prototypeNames, 'prototype', 'TypeError', 'AggregateError', 'TimeoutError', 'WorkerLost'), fc.string())
const keyArb = fc.oneof(fc.constantFrom(...prototypeNames, 'prototype', 'errors', 'code'), fc.string()).filter((key) => !RESERVED.includes(key))

const { value: valueArb } = fc.letrec<{ value: ValueSpec }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.record({ json: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ bigint: fc.bigInt().map(String) }),
    fc.constant({ fn: true as const }),
    fc.record({ symbol: fc.string() }),
    fc.record({ date: fc.integer() }),
    fc.constant({ cycle: true as const }),
    fc.record({ object: fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 3 }) }),
  ),
}))

const { thrown: thrownArb } = fc.letrec<{ thrown: ThrownSpec; error: ErrorSpec }>((tie) => ({
  thrown: fc.oneof({ depthSize: 'small' }, fc.record({ error: tie('error') }), fc.record({ value: valueArb })),
  error: fc.record(
    {
      class: fc.constantFrom('Error', 'TypeError', 'RangeError', 'SyntaxError', 'AggregateError', 'Custom'),
      message: fc.string(),
      name: nameArb,
      props: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 4 }),
      throwing: fc.subarray(['name', 'message', 'stack', 'cause', 'code', 'errors']),
      cause: tie('thrown'),
      selfCause: fc.boolean(),
      errors: fc.array(tie('thrown'), { maxLength: 3 }),
      proxy: fc.constantFrom('transparent' as const, 'hostile' as const),
    },
    { requiredKeys: ['class', 'message', 'props', 'throwing'] },
  ),
}))

/** Whether the channel carries a value of this kind as it is (leaving aside what it does to it, like JSON to a Date). */
function travels(spec: ValueSpec, channel: Channel): boolean {
  if ('fn' in spec || 'symbol' in spec) return false
  if ('bigint' in spec || 'cycle' in spec) return channel !== 'json'
  if ('object' in spec) return spec.object.every(([, value]) => travels(value, channel))
  return true
}

/** Whether encoding leaves no note: nothing throws, nothing is dropped. */
function clean(spec: ThrownSpec, channel: Channel): boolean {
  if ('value' in spec) return travels(spec.value, channel)
  const e = spec.error
  return e.throwing.length === 0 && e.proxy !== 'hostile' && !e.selfCause &&
    e.props.every(([, value]) => travels(value, channel)) && (!e.cause || clean(e.cause, channel)) &&
    (e.class !== 'AggregateError' || (e.errors ?? []).every((item) => clean(item, channel)))
}

/** What the decoded value must be, given what was thrown. */
function check(spec: ThrownSpec, decoded: unknown, channel: Channel, depth = 0): void {
  if ('value' in spec) return checkValue(spec.value, decoded, channel)
  const e = spec.error
  expect(decoded).toBeInstanceOf(Error)
  const error = decoded as Error & { errors?: unknown[] }
  if (e.proxy === 'hostile') return // nothing of it can be read: a plain Error saying so
  // The class it was, whatever its name says; a Custom class is an Error.
  const Class = e.class === 'Custom' ? Error : globalThis[e.class]
  expect(Object.getPrototypeOf(error)).toBe(Class.prototype)
  expect(error.name).toBe(e.throwing.includes('name') ? Class.name : e.name ?? Class.name)
  if (!e.throwing.includes('message')) {
    if (clean(spec, channel)) expect(error.message).toBe(e.message)
    else expect(error.message.startsWith(e.message)).toBe(true)
  }
  const props = new Map(e.props)
  for (const key of e.throwing) props.delete(key)
  const replacedErrors = props.has('errors')
  if (e.class === 'AggregateError' || error.name === 'AggregateError') props.delete('errors') // an AggregateError has its own
  for (const [key, value] of props) {
    const own = Object.getOwnPropertyDescriptor(error, key)
    if (travels(value, channel)) {
      expect(own, `property ${key}`).toBeDefined()
      if ('json' in value || 'bigint' in value) expect(own!.value).toEqual(transports[channel](buildValue(value)))
    } else if ('cycle' in value) {
      expect(own?.value, `property ${key}`).toEqual({ n: 1 }) // what JSON can carry of it
    } else if (!('object' in value)) {
      expect(own, `property ${key}`).toBeUndefined()
      expect(error.message).toContain(`property ${key} not sent`)
    }
  }
  if (e.cause && !e.selfCause && !e.throwing.includes('cause') && depth < 4) {
    expect(Object.hasOwn(error, 'cause')).toBe(true)
    check(e.cause, error.cause, channel, depth + 1)
  }
  if (e.class === 'AggregateError' && !e.throwing.includes('errors') && !replacedErrors && depth < 4) {
    const errors = e.errors ?? []
    expect(error.errors).toHaveLength(errors.length)
    errors.forEach((item, i) => check(item, error.errors![i], channel, depth + 1))
  }
}

function checkValue(spec: ValueSpec, decoded: unknown, channel: Channel): void {
  if ('json' in spec) return void expect(decoded).toEqual(transports[channel](spec.json))
  if ('fn' in spec || 'symbol' in spec || ('bigint' in spec && channel === 'json')) {
    expect(decoded).toBeInstanceOf(Error)
    return void expect((decoded as Error).message).toMatch(/^the thrown value not sent: a (function|symbol|bigint)/)
  }
  if ('bigint' in spec) return void expect(decoded).toBe(BigInt(spec.bigint))
  if ('cycle' in spec) {
    if (channel === 'json') return void expect(decoded).toEqual({ n: 1 }) // what JSON can carry of it
    return void expect((decoded as { self: unknown }).self).toBe(decoded)
  }
  if ('date' in spec) return void expect(decoded).toEqual(transports[channel](new Date(spec.date)))
  // An object: what travels is kept, key by key.
  expect(typeof decoded).toBe('object')
  for (const [key, value] of new Map(spec.object)) {
    if (travels(value, channel)) expect(Object.hasOwn(decoded as object, key), `key ${key}`).toBe(true)
    else if (!('object' in value) && !('cycle' in value)) expect(Object.hasOwn(decoded as object, key), `key ${key}`).toBe(false) // objects keep what can travel
  }
}

function buildValue(spec: ValueSpec): unknown {
  return buildThrown({ value: spec })
}

describe('the error codec', () => {
  it('any error-shaped value round-trips on every channel, or degrades to a plain Error; nothing throws', () => {
    fc.assert(
      fc.property(thrownArb, fc.constantFrom(...channels), (spec, channel) => {
        const encoded = encodeThrown(buildThrown(spec), channel)
        check(spec, decodeThrown(transports[channel](encoded)), channel)
      }),
      { numRuns: Number(process.env.CF_RUNS ?? 2000) }, // CF_RUNS=100000 to search longer
    )
  })

  it('an error encoded for JSON also survives structured clone (pool to relay thread, then JSON to the child)', () => {
    fc.assert(
      fc.property(thrownArb, (spec) => {
        check(spec, decodeThrown(transports.json(structuredClone(encodeThrown(buildThrown(spec), 'json')))), 'json')
      }),
      { numRuns: 500 },
    )
  })

  it("every library error is named by its own record, on the prototype as the built-ins are, and decodes to its class", () => {
    const loop = { CancelledError: LoopCancelledError, InvalidStateError: LoopInvalidStateError, ExceptionGroup }
    for (const [name, ErrorClass] of Object.entries({ ...futuresErrors, ...loop })) {
      expect(Object.getOwnPropertyDescriptor(ErrorClass.prototype, 'name')).toMatchObject({ value: name, enumerable: false })
    }
    for (const [name, ErrorClass] of Object.entries(futuresErrors)) {
      const error = new (ErrorClass as typeof FuturesError)('m', { exitCode: 1 } as never)
      expect(error.name).toBe(name)
      expect(Object.keys(error)).not.toContain('name')
      for (const channel of channels) {
        const decoded = decodeThrown(transports[channel](encodeThrown(error, channel))) as Error
        expect(Object.getPrototypeOf(decoded)).toBe(ErrorClass.prototype)
        expect([decoded.name, decoded.message]).toEqual([name, 'm'])
      }
    }
  })

  it("comes back as one of the library's classes only if it was one where it was thrown, whatever its name", () => {
    const names = Object.keys(futuresErrors) as Array<keyof typeof futuresErrors>
    /** Errors bearing a library name, and the class each really is. */
    const bearers: Record<string, (name: keyof typeof futuresErrors, message: string) => [Error, object]> = {
      library: (name, m) => [new (futuresErrors[name] as typeof FuturesError)(m, {} as never), futuresErrors[name].prototype],
      librarySubclass: (name, m) => {
        const Sub = class extends (futuresErrors[name] as typeof FuturesError) {}
        return [new Sub(m, {} as never), futuresErrors[name].prototype]
      },
      // A second copy of the library (a worker loading dist/ while the caller runs src/) names its classes alike.
      secondCopy: (name, m) => {
        const Copy = class extends Error {}
        nameErrors({ [name]: Copy })
        return [new Copy(m), futuresErrors[name].prototype]
      },
      ownName: (name, m) => [Object.assign(new Error(m), { name }), Error.prototype],
      builtin: (name, m) => [Object.assign(new TypeError(m), { name }), TypeError.prototype],
      userClass: (name, m) => {
        const User = class extends Error {}
        Object.defineProperty(User.prototype, 'name', { value: name })
        return [new User(m), Error.prototype]
      },
      domException: (name, m) => [new DOMException(m, name), Error.prototype], // AbortSignal.timeout()'s reason, as fetch() throws it
    }
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.constantFrom(...Object.keys(bearers)), fc.constantFrom(...channels), fc.string(), (name, bearer, channel, message) => {
        const [error, prototype] = bearers[bearer]!(name, message)
        const decoded = decodeThrown(transports[channel](encodeThrown(error, channel))) as Error
        expect(Object.getPrototypeOf(decoded)).toBe(prototype)
        expect([decoded.name, decoded.message]).toEqual([name, message])
      }),
      { numRuns: 500 },
    )
  })

  it("decodes a library name as an Error with that name when the record does not say it was the library's (another writer, an older worker)", () => {
    for (const kind of [undefined, 'toString', '__proto__', 'ExceptionGroup', 5]) {
      const decoded = decodeThrown({ error: { name: 'CancelledError', message: 'm', props: {}, ...(kind === undefined ? {} : { class: kind }) } }) as Error
      expect(Object.getPrototypeOf(decoded)).toBe(Error.prototype)
      expect([decoded.name, decoded.message]).toEqual(['CancelledError', 'm'])
    }
    expect(decodeThrown({ error: { name: 'TypeError', message: 'm', props: {} } })).toBeInstanceOf(TypeError) // a built-in's name still says its class
  })

  it('decodes an error named after any Object.prototype member, itself or in its cause, as an Error with that name', () => {
    for (const name of prototypeNames) {
      for (const channel of channels) {
        const thrown = Object.assign(new TypeError('outer', { cause: namedError(name) }), {})
        const decoded = decodeThrown(transports[channel](encodeThrown(namedError(name, thrown), channel))) as Error
        expect(Object.getPrototypeOf(decoded)).toBe(Error.prototype)
        expect([decoded.name, decoded.message]).toEqual([name, `named ${name}`])
        const cause = (decoded.cause as Error).cause as Error
        expect(Object.getPrototypeOf(cause)).toBe(Error.prototype) // toEqual would take any error prototype
        expect(cause.name).toBe(name)
      }
    }
  })

  it('never assigns through the prototype chain: __proto__, constructor and prototype are own properties', () => {
    const error = new Error('keys')
    for (const key of ['__proto__', 'constructor', 'prototype']) Object.defineProperty(error, key, { value: { polluted: key }, enumerable: true })
    for (const channel of channels) {
      const decoded = decodeThrown(transports[channel](encodeThrown(error, channel))) as Error & Record<string, unknown>
      expect(Object.getPrototypeOf(decoded)).toBe(Error.prototype)
      for (const key of ['__proto__', 'constructor', 'prototype']) expect(Object.getOwnPropertyDescriptor(decoded, key)?.value).toEqual({ polluted: key })
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('decodes any JSON, as a hostile queue log line may hold, without throwing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (outer, inner) => {
        for (const record of [outer, { error: outer }, { error: { name: inner, class: outer, message: outer, props: inner, cause: outer, errors: [inner] } }]) {
          expect(() => decodeThrown(record, 'Error\n    at submit (x.ts:1:1)')).not.toThrow()
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('drops only the property JSON cannot carry, and says which', () => {
    const error = Object.assign(new RangeError('too big'), { size: 10n, unit: 'bytes' })
    const decoded = decodeThrown(transports.json(encodeThrown(new Error('outer', { cause: error }), 'json'))) as Error
    const cause = decoded.cause as RangeError & { size?: bigint; unit?: string }
    expect(cause).toBeInstanceOf(RangeError)
    expect([cause.size, cause.unit]).toEqual([undefined, 'bytes'])
    expect(cause.message).toMatch(/^too big \[property size not sent: a bigint \(10n\)/)
  })

  it('keeps AggregateError.errors, and what a thrown object holding a function can carry', () => {
    const aggregate = new AggregateError([new TypeError('one'), 'two'], 'both')
    for (const channel of channels) {
      const decoded = decodeThrown(transports[channel](encodeThrown(aggregate, channel))) as AggregateError
      expect(decoded).toBeInstanceOf(AggregateError)
      expect(decoded.errors).toHaveLength(2)
      expect(decoded.errors[0]).toBeInstanceOf(TypeError)
      expect(decoded.errors[1]).toBe('two')
      const object = decodeThrown(transports[channel](encodeThrown({ code: 7, retry: () => 1, nested: { ok: true, fn: () => 2 } }, channel)))
      expect(object).toEqual({ code: 7, nested: { ok: true } })
    }
  })

  it("keeps the errors of another realm's AggregateError, and an Error whose prototype chain throws", () => {
    const foreign = runInNewContext('new AggregateError([new TypeError("one"), 2], "both")') as AggregateError
    const proxied = Object.setPrototypeOf(new Error('behind a proxy'), new Proxy(Error.prototype, { getPrototypeOf: () => { throw new Error('no prototype') } })) as Error
    for (const channel of channels) {
      const decoded = decodeThrown(transports[channel](encodeThrown(foreign, channel))) as AggregateError
      expect(decoded).toBeInstanceOf(AggregateError)
      expect(decoded.errors).toHaveLength(2)
      expect([(decoded.errors[0] as Error).name, decoded.errors[1]]).toEqual(['TypeError', 2])
      const error = decodeThrown(transports[channel](encodeThrown(proxied, channel))) as Error
      expect(error).toBeInstanceOf(Error)
      expect(error.message).toMatch(/^behind a proxy/)
    }
  })

  it('sends at most 128 causes and aggregated values, and reads no further, whatever the list holds', () => {
    const huge = new AggregateError(Array.from({ length: 200_000 }, (_, i) => () => i), 'functions')
    for (const channel of channels) {
      const decoded = decodeThrown(transports[channel](encodeThrown(huge, channel))) as AggregateError
      expect(decoded.errors).toHaveLength(128)
      expect(decoded.message).toMatch(/errors\[128\] not sent: more than 128 causes and errors/)
    }
  })

  it('turns a getter that throws into a note, and ends a cycle of causes', () => {
    const error = new Error('getters')
    Object.defineProperty(error, 'code', { get: () => { throw new Error('no code') }, enumerable: true })
    const loop = new Error('loop', { cause: error })
    Object.defineProperty(error, 'cause', { value: loop })
    for (const channel of channels) {
      const decoded = decodeThrown(transports[channel](encodeThrown(loop, channel))) as Error
      expect((decoded.cause as Error).message).toBe('getters [reading its code threw Error: no code; its cause refers back to an error it is part of]')
    }
  })
})

function namedError(name: string, cause?: unknown): Error {
  const error = new Error(`named ${name}`, cause === undefined ? {} : { cause })
  Object.defineProperty(error, 'name', { value: name, enumerable: false, configurable: true, writable: true })
  return error
}

/** Errors that broke the codec before (issue 12), as specs. */
const knownHostile: ThrownSpec[] = [
  ...prototypeNames.flatMap((name): ThrownSpec[] => [
    { error: { class: 'Error', message: `named ${name}`, name, props: [], throwing: [] } },
    { error: { class: 'TypeError', message: 'outer', props: [], throwing: [], cause: { error: { class: 'Error', message: 'inner', name, props: [], throwing: [] } } } },
  ]),
  ...['name', 'message', 'stack', 'cause', 'code'].map((key): ThrownSpec => ({ error: { class: 'Error', message: 'getter', props: [], throwing: [key] } })),
  { error: { class: 'Error', message: 'hostile proxy', props: [], throwing: [], proxy: 'hostile' } },
  { error: { class: 'Error', message: 'self', props: [], throwing: [], selfCause: true } },
  { error: { class: 'RangeError', message: 'too big', props: [['size', { bigint: '10' }], ['unit', { json: 'bytes' }]], throwing: [] } },
  { error: { class: 'AggregateError', message: 'all', props: [], throwing: [], errors: [{ value: { json: 1 } }, { error: { class: 'TypeError', message: 't', props: [], throwing: [] } }] } },
  { value: { bigint: '10' } },
  { value: { object: [['code', { json: 1 }], ['fn', { fn: true }]] } },
  { value: { symbol: 's' } },
]

const pools: Array<{ name: string; channel: Channel; make: (options?: { maxWorkers: number }) => Executor }> = [
  { name: 'ThreadPoolExecutor', channel: 'clone', make: (options) => pool(options) },
  { name: 'ProcessPoolExecutor', channel: 'advanced', make: (options) => processPool(options) },
  { name: "ProcessPoolExecutor (serialization: 'json')", channel: 'json', make: (options) => processPool({ serialization: 'json', ...options }) },
]

describe.each(pools)('hostile errors through a real $name', ({ channel, make }) => {
  it('fail only their future, with the decoded error, awaited or blocked; the pool goes on', async () => {
    const ex = make()
    const futures = knownHostile.map((spec) => ex.submit(hostile.throwSpec, spec))
    for (const [i, spec] of knownHostile.entries()) {
      const thrown = i % 2 ? futures[i]!.exception(10_000) : await futures[i]!.then(() => 'no error', (error: unknown) => error)
      check(spec, thrown, channel)
    }
    expect(ex.submit(tasks.add, 1, 2).result(10_000)).toBe(3)
  })

  it('any error-shaped value thrown in a task comes back decoded', async () => {
    const ex = make()
    await fc.assert(
      fc.asyncProperty(thrownArb, async (spec) => {
        check(spec, await ex.submit(hostile.throwSpec, spec).then(() => 'no error', (error: unknown) => error), channel)
      }),
      { numRuns: 40 },
    )
    expect(ex.submit(tasks.add, 2, 2).result(10_000)).toBe(4)
  })

  it("a task's own error bearing a library name comes back as the Error it was; a library error keeps its class, both ways", async () => {
    const ex = make()
    for (const name of ['CancelledError', 'TimeoutError'] as const) {
      const own = (await ex.submit(tasks.throwNamed, name, 'own').then(() => 'no error', (error: unknown) => error)) as Error
      expect(Object.getPrototypeOf(own)).toBe(Error.prototype) // toBe: toEqual takes any two error prototypes as equal
      expect([own.name, own.message]).toEqual([name, 'own'])
    }
    const library = ex.submit(tasks.throwLibrary, 'DeadlockError', 'nothing could end it').exception(10_000) as Error
    expect([library instanceof DeadlockError, library.name, library.message]).toEqual([true, 'DeadlockError', 'nothing could end it'])
    // The pool's TimeoutError, sent to the task as its interrupt reason.
    expect(await ex.submitWith({ timeoutMs: 50 }, tasks.abortedByTimeout)).toBe(true)
  })

  it.runIf(channel !== 'json')('a Buffer result arrives as a Uint8Array, as its type says', async () => {
    const value = await make().submit(hostile.bufferResult, 'ab')
    expect(value).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString()).toBe('ab')
  })

  it('an abort whose reason the channel cannot carry reaches the task as far as it can; the pool goes on', async () => {
    const ex = make({ maxWorkers: 1 })
    // The module is loaded first, so the task runs as soon as its worker has it, before the interrupt comes.
    expect(ex.submit(hostile.add, 1, 2).result(10_000)).toBe(3)
    const controller = new AbortController()
    const f = ex.submitWith({ signal: controller.signal }, hostile.abortReason)
    await until(() => f.running())
    controller.abort(10n)
    expect(await f).toMatch(channel === 'json' ? /^Error: the thrown value not sent: a bigint \(10n\)/ : /^bigint 10$/)
    expect(ex.submit(tasks.add, 1, 1).result(10_000)).toBe(2)
  })
})
