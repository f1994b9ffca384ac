// A running task's progress reports, on the worker's side: each value is
// copied at the call (as the pool will receive it, so a value that cannot
// travel fails there), and the reports coalesce, latest wins: at most one
// message per task per PROGRESS_INTERVAL_MS, the newest value held back until
// the next one may go, and sent before the task's result. A task reporting in
// a tight loop sends about one message a millisecond, however often it calls.

import { carry, type Channel } from './channel.js'
import type { FromWorker } from './protocol.js'

export const PROGRESS_INTERVAL_MS = 1

export class ProgressReports {
  #held: { value: unknown } | undefined
  #sentAt = -Infinity
  #timer: NodeJS.Timeout | undefined

  constructor(
    readonly id: number,
    readonly post: (message: FromWorker) => void,
    readonly channel: Channel,
  ) {}

  report(value: unknown): void {
    const copy = travelling(value, this.channel)
    const now = performance.now()
    if (now - this.#sentAt >= PROGRESS_INTERVAL_MS) {
      this.#drop() // older than this one: sent after it, it would undo it
      return this.#send(copy, now)
    }
    this.#held = { value: copy }
    // For an async task whose loop is free meanwhile; a synchronous one sends it at its next report or its end.
    this.#timer ??= setTimeout(() => this.flush(), PROGRESS_INTERVAL_MS)
  }

  /** Sends the value held back, if any: the task ends, or its interval passed. */
  flush(): void {
    const held = this.#held
    this.#drop()
    if (held) this.#send(held.value, performance.now())
  }

  #drop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#held = undefined
  }

  #send(value: unknown, now: number): void {
    this.#sentAt = now
    this.post({ event: 'progress', id: this.id, value })
  }
}

const HOW: Record<Channel, string> = { clone: 'by structured clone', advanced: "by the child's v8 serialization", json: 'as JSON' }

/** `value` as the pool receives it; a copy, so later changes to it by the task are not sent. */
function travelling(value: unknown, channel: Channel): unknown {
  const type = typeof value
  // Immutable and always carried as they are: no copy needed (JSON turns NaN and Infinity into null).
  if (type === 'string' || type === 'boolean' || value === null || (type === 'number' && (channel !== 'json' || Number.isFinite(value)))) return value
  try {
    return carry(value, channel)
  } catch (error) {
    throw new TypeError(`reportProgress() was given a value that cannot be sent to the pool (${HOW[channel]}): ${(error as Error).message}`, { cause: error })
  }
}
