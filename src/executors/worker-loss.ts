// When a pool gives up on its workers. A worker that ends before it is ready
// (its entry, preloads and initializer done) will not do better the next
// time: the pool breaks, with what it died of. One that ends later is
// replaced; but if worker after worker ends with nothing settled (a task
// whose module exits or runs out of memory as it loads), replacing them
// would go on forever.

import { describeExit, WorkerLost, type WorkerExit } from '../concurrent/errors.js'
import type { Job } from './job.js'
import { startFailure } from './start-failure.js'

/** Workers in a row that may end with their work unfinished and unfailed before the pool gives up on replacing them. */
const MAX_FRUITLESS_DEATHS = 5

/** What this pool's workers are called, and the pool, in messages. */
export interface PoolKind {
  worker: string
  pool: string
}

/** Why the pool breaks: its message, and what the futures fail with as their cause. */
export interface Breakage {
  message: string
  cause: unknown
}

/**
 * Whether an end is a death at start: before the worker was ready, not
 * stopped by the pool, and not by a signal, which comes from outside (you,
 * the OOM killer) and says nothing about the next worker.
 */
export function diesAtStart(member: { ready: boolean; retiring: boolean }, exit: WorkerExit): boolean {
  return !member.ready && !member.retiring && exit.signal === undefined
}

export function diedAtStart(kind: PoolKind, exit: WorkerExit, cause: unknown): Breakage {
  const reason = cause ?? new WorkerLost(`the ${kind.worker} ${describeExit(exit)} before it was ready`, exit)
  return { message: startFailure(`A ${kind.worker} failed to start`, kind.pool, reason), cause: reason }
}

/** Counts the workers in a row that ended holding work and settled none of it. */
export class FruitlessDeaths {
  #count = 0

  /** A worker answered for some work. */
  reset(): void {
    this.#count = 0
  }

  /** A worker ended holding `live` jobs: the breakage once MAX_FRUITLESS_DEATHS in a row settled none. */
  died(live: Job[], kind: PoolKind, exit: WorkerExit, cause: unknown): Breakage | undefined {
    if (live.length === 0) return undefined
    if (live.some((job) => job.future.done())) {
      this.#count = 0
      return undefined
    }
    if (++this.#count < MAX_FRUITLESS_DEATHS) return undefined
    const lost = new WorkerLost(`the last ${kind.worker} ${describeExit(exit)}`, exit, { cause })
    return {
      message: `${MAX_FRUITLESS_DEATHS} ${kind.worker}s in a row ended before finishing a task (the last ${describeExit(exit)}), the ${kind.pool} is not usable anymore`,
      cause: lost,
    }
  }
}
