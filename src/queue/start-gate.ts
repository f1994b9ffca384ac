// Which of the jobs a queue worker fetched go to its local pool, and which
// of them started. While its tasks are short and the queue has a backlog,
// the worker fetches jobs ahead of its pool and hands them over at once, so a thread finds its next task
// already there and the pool sends results back in batches. A fetched job
// that has not started can still be cancelled, exactly: before it is handed
// over by taking it out of the line here, after by the pool's own cancel,
// which races the thread atomically. BullMQ calls any fetched job active, so
// the submitters learn which jobs really started from here (see started()).

import type { Future } from '../concurrent/future.js'

/** A task that takes longer than this on average gets no jobs fetched ahead of it: they could run elsewhere meanwhile. */
const SHORT_MS = 20
/** Weight of the newest time in the running average. */
const ALPHA = 0.2
/** Jobs fetched ahead, per job the pool runs at once, while tasks are short. */
const AHEAD_PER_SLOT = 3

interface Waiter {
  id: string
  chunk: boolean
  admit: () => void
  refuse: (error: Error) => void
}

interface Held {
  since: number
  /** The job's calls in the local pool; a chunk's are never cancelled one by one, so it counts as started once handed over. */
  futures: Future<unknown>[]
  chunk: boolean
  named: boolean
}

export class StartGate {
  readonly #slots: number
  #ahead = 0
  readonly #setFetchAhead: (jobs: number) => void
  readonly #waiting: Waiter[] = []
  /** The jobs handed to the local pool, by id. */
  readonly #held = new Map<string, Held>()
  /** Running average of a job's time in the local pool (ms); starts long, so nothing is fetched ahead until tasks prove short. */
  #averageMs = SHORT_MS
  /**
   * Jobs fetched since the queue was last found empty: from the second on, there is a backlog. Without one,
   * fetching ahead only costs a round trip that finds nothing, which a lone job's result waits behind.
   */
  #sinceDrained = 0
  /**
   * Chunks (map with a chunksize) waiting or in the pool. A chunk is a batch already, and one fetched ahead
   * waits here for a free slot while another worker may be idle: nothing is fetched ahead while there are any.
   */
  #chunks = 0

  /** The local pool runs `slots` jobs at once; `setFetchAhead(n)` is told how many jobs to fetch beyond them. */
  constructor(slots: number, setFetchAhead: (jobs: number) => void) {
    this.#slots = slots
    this.#setFetchAhead = setFetchAhead
  }

  /**
   * Resolves once the job may go to the local pool: a single task while the pool holds fewer than its slots
   * and the jobs fetched ahead, a chunk only while a slot is free (its calls cannot be cancelled all at once);
   * in the order fetched. Rejects with withdraw()'s error if the job is withdrawn first.
   */
  enter(id: string, chunk: boolean): Promise<void> {
    if (chunk) this.#chunks++
    this.#sinceDrained++
    this.#fetchAhead()
    if (this.#waiting.length === 0 && this.#fits(chunk)) return Promise.resolve(this.#hold(id, chunk))
    return new Promise<void>((admit, refuse) => this.#waiting.push({ id, chunk, admit: () => admit(this.#hold(id, chunk)), refuse }))
  }

  /** The calls the job `id` made on the local pool, once made. */
  handed(id: string, futures: Future<unknown>[]): void {
    const held = this.#held.get(id)
    if (held) held.futures = futures
  }

  /** The job `id`, which entered, is done: the next ones in line go. */
  leave(id: string): void {
    const held = this.#held.get(id)
    if (!held) return
    this.#held.delete(id)
    if (held.chunk) this.#chunks--
    this.#averageMs += ALPHA * (performance.now() - held.since - this.#averageMs)
    this.#fetchAhead()
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.chunk)) this.#waiting.shift()!.admit()
  }

  /** The worker found the queue empty. */
  drained(): void {
    this.#sinceDrained = 0
    this.#fetchAhead()
  }

  /** Refuses the job `id` with `error` if it waits in line here; false if it does not. */
  refuse(id: string, error: Error): boolean {
    const index = this.#waiting.findIndex((waiter) => waiter.id === id)
    if (index < 0) return false
    const [waiter] = this.#waiting.splice(index, 1)
    if (waiter!.chunk) this.#chunks--
    waiter!.refuse(error)
    return true
  }

  /**
   * Cancels the job `id` if it has not started: 'withdrawn' (refused with `error` in line here, or its call
   * cancelled in the pool, which then rejects with CancelledError), 'started', or 'unknown' when this worker
   * does not hold it.
   */
  cancel(id: string, error: Error): 'withdrawn' | 'started' | 'unknown' {
    if (this.refuse(id, error)) return 'withdrawn'
    const held = this.#held.get(id)
    if (!held) return 'unknown'
    return !held.chunk && held.futures.length === 1 && held.futures[0]!.cancel() ? 'withdrawn' : 'started'
  }

  /** Whether any job waits here or is in the local pool. */
  busy(): boolean {
    return this.#held.size > 0 || this.#waiting.length > 0
  }

  /** The jobs seen started (and not done) for the first time, each named once: most short ones finish unseen. */
  started(): string[] {
    const ids: string[] = []
    for (const [id, held] of this.#held) {
      if (held.named || !(held.chunk || held.futures.some((future) => future.running() || (future.done() && !future.cancelled())))) continue
      held.named = true
      ids.push(id)
    }
    return ids
  }

  #fetchAhead(): void {
    const ahead = this.#averageMs < SHORT_MS && this.#sinceDrained >= 2 && this.#chunks === 0 ? AHEAD_PER_SLOT * this.#slots : 0
    if (ahead !== this.#ahead) this.#setFetchAhead((this.#ahead = ahead))
  }

  #fits(chunk: boolean): boolean {
    return this.#held.size < this.#slots + (chunk ? 0 : this.#ahead)
  }

  #hold(id: string, chunk: boolean): void {
    this.#held.set(id, { since: performance.now(), futures: [], chunk, named: false })
  }
}
