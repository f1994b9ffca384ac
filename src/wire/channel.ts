// The ways a value travels between the parts of the library, and what
// arrives: the one place that knows whether something can be sent.

import { deserialize, serialize } from 'node:v8'

/**
 * A MessagePort between threads ('clone'), a child's IPC ('advanced' is v8
 * serialization, 'json' its JSON mode), or Redis ('json').
 */
export type Channel = 'clone' | 'advanced' | 'json'

/**
 * `value` as the other side receives it, a copy made now: plain data that
 * sending again cannot fail, however the original's getters behave. Throws if
 * `value` cannot travel on `channel`.
 */
export function carry(value: unknown, channel: Channel): unknown {
  if (channel === 'clone') return structuredClone(value)
  if (channel === 'advanced') return deserialize(serialize(value))
  const text = JSON.stringify(value)
  if (text !== undefined) return JSON.parse(text)
  if (value === undefined) return undefined
  throw new TypeError(`a ${typeof value} cannot be sent as JSON`)
}

type Primitive = string | number | bigint | boolean | symbol | null | undefined

/**
 * The type of a value as it arrives from a worker: as it was sent, except
 * that a Buffer, anywhere in it, is typed as the Uint8Array it arrives as
 * (structured clone keeps a Buffer's bytes, not its class; docs/DECISIONS.md).
 */
export type Received<T> = unknown extends T ? T
  : T extends Buffer<infer B> ? Uint8Array<B>
  : T extends Primitive | ((...args: never[]) => unknown) | Date | RegExp | Error | ArrayBufferView | ArrayBufferLike ? T
  : T extends ReadonlyMap<infer K, infer V> ? Map<Received<K>, Received<V>>
  : T extends ReadonlySet<infer V> ? Set<Received<V>>
  : { [K in keyof T]: Received<T[K]> }
