// A pool's workers: the list dispatch reads, the number a new one takes, and
// when one goes. Dispatch decides when a worker is needed (dispatch-policy.ts);
// this file decides when one is no longer: once it has no jobs, a worker that
// ran its quota (maxTasksPerWorker) or stands past the autoscaler's target is
// stopped at once, and any other after idleTimeoutMs. A worker holding remote
// objects (pin.ts) stays, whatever its age: their state lives in it.

import { longTimeout } from '../concurrent/long-timer.js'
import type { Job } from './job.js'
import type { Pin } from './pin.js'
import type { PoolMember } from './pool-member.js'

export interface CrewRules<M> {
  maxTasksPerWorker: number
  idleTimeoutMs: number
  /** How many workers may take work now: maxWorkers, or the autoscaler's target. */
  target: () => number
  /** Starts worker number `index` (throws when Node refuses). */
  spawn: (index: number) => M
  /** Stops a worker once its work is done. */
  stop: (member: M) => void
}

export class Crew<M extends PoolMember> {
  /** In start order, lowest number first: dispatch fills the first ones, so the last are the ones to go. */
  list: readonly M[] = []

  readonly #rules: CrewRules<M>

  constructor(rules: CrewRules<M>) {
    this.#rules = rules
  }

  /** Starts a worker with the lowest number not in use, so numbers (in thread names, say) stay small. */
  start(): M {
    const used = new Set(this.list.map((m) => m.index))
    let index = 0
    while (used.has(index)) index++
    const member = this.#rules.spawn(index)
    this.list = [...this.list, member]
    return member
  }

  /** The worker holding `job`, if one does. */
  holding(job: Job): M | undefined {
    return this.list.find((m) => m.jobs.get(job.id) === job)
  }

  /** A worker with no jobs: recycle it if it has run its quota or is past the target, or let it idle out. */
  idle(member: M): void {
    if (member.pinned.size > 0) return
    if (member.assigned >= this.#rules.maxTasksPerWorker || this.list.indexOf(member) >= this.#rules.target()) return this.retire(member)
    if (this.#rules.idleTimeoutMs !== Infinity) {
      member.idleTimer = longTimeout(() => member.jobs.size === 0 && this.retire(member), this.#rules.idleTimeoutMs)?.unref()
    }
  }

  /** The autoscaler lowered its target: the workers past it take no new work (pickWorker), and stop once idle. */
  retireExcess(): void {
    for (const member of this.list.slice(this.#rules.target())) if (member.jobs.size === 0) this.idle(member)
  }

  /** A series of calls on a remote object is over: its worker may be recycled again. */
  unpinned(pin: Pin): void {
    const member = this.list.find((m) => m.pinned.delete(pin))
    if (member?.jobs.size === 0) this.idle(member)
  }

  retire(member: M): void {
    member.retiring = true
    this.remove(member)
    this.#rules.stop(member)
  }

  /** Out of the list: it is gone, or going. */
  remove(member: M): void {
    this.list = this.list.filter((m) => m !== member)
  }

  /** Empties the list, every worker marked as stopped by the pool, and gives what it held. */
  takeAll(): readonly M[] {
    const members = this.list
    this.list = []
    for (const member of members) member.retiring = true
    return members
  }
}
