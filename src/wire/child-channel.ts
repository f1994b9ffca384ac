// What a child process sends its relay on their IPC channel, and the one
// check of what arrives there, made before anything reads it. The channel is
// the child's only one, and more than the pool's code can write to it: the
// child entry gives task code a process.send that drops what it is given
// (workers/keep-channel.ts), but a preload runs before the entry and may have
// kept the channel's own. So each message of ours ends with a tag nothing
// sent by accident ends with, and what lacks the tag or the shape the pool
// reads is not ours: the relay ignores it.

import { packResults, unpackResults, type PackedResults } from './batches.js'
import type { FromWorker, WorkerEvent } from './protocol.js'

const RESULTS = 'concurrent-futures:results'
const EVENT = 'concurrent-futures:event'

/** A message of a child: a packed ResultBatch (batches.ts) or an event, then its tag. */
export type FromChild = [...PackedResults, typeof RESULTS] | [WorkerEvent, typeof EVENT]

export function packFromChild(message: FromWorker): FromChild {
  if (!('results' in message)) return [message, EVENT]
  const packed = packResults(message)
  packed.push(RESULTS)
  return packed as FromChild
}

/** What the child said, taking `message` over; undefined if it is not one of ours. Never throws. */
export function readFromChild(message: unknown): FromWorker | undefined {
  if (!Array.isArray(message)) return undefined
  const tag: unknown = message.at(-1)
  if (tag === EVENT) return message.length === 2 && isEvent(message[0]) ? message[0] : undefined
  if (tag !== RESULTS) return undefined
  message.pop()
  return unpackResults(message)
}

/** Whether `value` is an event of a known kind with the fields the pool and the relay read. */
function isEvent(value: unknown): value is WorkerEvent {
  if (typeof value !== 'object' || value === null) return false
  const event = value as Record<string, unknown>
  switch (event.event) {
    case 'ready':
      return true
    case 'started':
    case 'progress':
      return typeof event.id === 'number'
    case 'items':
      return typeof event.id === 'number' && Array.isArray(event.items)
    case 'init-failed':
      return Object.hasOwn(event, 'error')
    case 'exit':
      return typeof event.code === 'number' && (event.running === undefined || typeof event.running === 'number')
    default:
      return false
  }
}
