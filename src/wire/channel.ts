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
