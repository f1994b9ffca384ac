// What a worker remembers of the interrupt requests it heard for jobs it has
// not started yet. Anyone with access to Redis can publish on the channel,
// so the memory is bounded in size and in time, and takes only what it expects.

import { show } from '../concurrent/validate.js'

/** At most this many requests are kept, each at most this long; the oldest go first. */
const MAX_KEPT = 10_000
const KEEP_MS = 60_000
/** Longer ids are no job of ours; longer reasons are cut. */
const MAX_ID = 512
const MAX_REASON = 1000

export class RecentInterrupts {
  /** In the order heard, so the oldest are first. */
  readonly #reasons = new Map<string, { reason: string; at: number }>()

  /** Takes in a message from the channel: { jobId, reason } as JSON; anything else is ignored. */
  hear(message: string): { jobId: string; reason: string } | undefined {
    let parsed: unknown
    try {
      parsed = JSON.parse(message)
    } catch {
      return undefined
    }
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const { jobId, reason } = parsed as Record<string, unknown>
    if (typeof jobId !== 'string' || jobId === '' || jobId.length > MAX_ID) return undefined
    const text = typeof reason === 'string' ? reason : show(reason)
    return { jobId, reason: text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text }
  }

  remember(jobId: string, reason: string): void {
    this.#reasons.delete(jobId)
    this.#reasons.set(jobId, { reason, at: performance.now() })
    this.#forget()
  }

  get(jobId: string): string | undefined {
    this.#forget()
    return this.#reasons.get(jobId)?.reason
  }

  #forget(): void {
    const stale = performance.now() - KEEP_MS
    for (const [jobId, { at }] of this.#reasons) {
      if (at >= stale && this.#reasons.size <= MAX_KEPT) return
      this.#reasons.delete(jobId)
    }
  }
}
