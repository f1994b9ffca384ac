// A pool's jobs waiting for a worker, first in first out. An array read from
// a moving head, so taking a job is O(1) and a flood allocates nothing per job.

import type { Job } from './job.js'

export class JobQueue {
  #jobs: Job[] = []
  #head = 0

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
