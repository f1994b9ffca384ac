// A pool's jobs waiting for a worker, first in first out, and its bound
// (maxQueued). An array read from a moving head, so taking a job is O(1) and
// a flood allocates nothing per job.

import { QueueFullError } from '../concurrent/errors.js'
import type { Job } from './job.js'

export class JobQueue {
  #jobs: Job[] = []
  #head = 0
  #roomWaiters: Array<() => void> = []

  constructor(readonly maxQueued: number) {}

  hasRoom(): boolean {
    return this.length < this.maxQueued
  }

  /** Throws QueueFullError when there is no room. */
  checkRoom(): void {
    if (this.hasRoom()) return
    throw new QueueFullError(`${this.maxQueued} tasks are already waiting for a worker (maxQueued): wait for some to start, with await whenRoom() or runInExecutor()`)
  }

  /** Resolves once wakeWaiters() runs (when there may be room, or the pool closed). */
  whenRoom(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve))
  }

  /** Wakes every whenRoom(); they check again, so more than fit may wake. `ifRoom`: only if there is room. */
  wakeWaiters(ifRoom = false): void {
    if (this.#roomWaiters.length === 0 || (ifRoom && !this.hasRoom())) return
    for (const resolve of this.#roomWaiters.splice(0)) resolve()
  }

  get length(): number {
    return this.#jobs.length - this.#head
  }

  push(job: Job): void {
    this.#jobs.push(job)
  }

  peek(): Job | undefined {
    return this.#jobs[this.#head]
  }

  /** Drops the job peek() gave. */
  shift(): void {
    if (++this.#head < this.#jobs.length) return
    this.#jobs = []
    this.#head = 0
  }

  /** Puts jobs back at the head, in their order. */
  unshift(jobs: Job[]): void {
    if (jobs.length > 0) this.#jobs.splice(this.#head, 0, ...jobs)
  }

  /** The jobs waiting, in order. */
  all(): Job[] {
    return this.#jobs.slice(this.#head)
  }

  /** Empties the queue, giving what it held. */
  takeAll(): Job[] {
    const jobs = this.all()
    this.#jobs = []
    this.#head = 0
    return jobs
  }
}
