// A pool that sizes itself (`autoscale`): hill climbing on measured
// completions per second, as .NET's thread pool does, within [minWorkers,
// maxWorkers]. Every PERIOD_MS it looks at the pool; it judges only periods
// that had more tasks than workers from start to end (otherwise more workers
// cannot help and the rate says nothing about the size), and a step up that
// the work did not outlast is taken back unjudged. A move is judged on the period after the one it
// was made in (a new worker needs time to start), on the mean rate of the
// JUDGE_PERIODS periods after that. From a measured baseline it
// probes one worker up: if the rate rose by more than NOISE, that is the new
// baseline and it probes again; if not, the extra worker bought nothing, so it
// steps back and holds still for a number of periods that doubles with each
// failed probe (damping, up to MAX_HOLD) and resets when a probe pays. When the main thread's
// event-loop delay (p99 over a period) passes MAX_LOOP_DELAY_MS, it steps
// down whatever the rate says: the workers are starving the thread that
// feeds them. After IDLE_MS with nothing to do it drops a worker per period
// toward minWorkers.
// The pool counts completions into `completed` (one addition per batch) and
// asks `target` when it would start a worker: nothing else on the hot path.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

export const PERIOD_MS = 250
export const NOISE = 0.05
export const JUDGE_PERIODS = 2
export const MAX_HOLD = 16
export const MAX_LOOP_DELAY_MS = 100
export const IDLE_MS = 2000

/** `autoscale` on a pool: the size moves between `minWorkers` and the pool's `maxWorkers` with the measured throughput. */
export interface AutoscaleOptions {
  /** The fewest workers it shrinks to (default 1). */
  minWorkers?: number
}

/** What the controller sees of its pool and the one thing it does to it. */
export interface Scaled {
  /** Live jobs, waiting or running. */
  live(): number
  /** Workers running now. */
  workers(): number
  /** The target fell below the workers running: stop the extra ones as they go idle. */
  retireExcess(): void
}

export class Autoscale {
  /** The most workers the pool may start now. */
  target: number
  /** Tasks finished since the last period: the pool adds to it. */
  completed = 0
  readonly #min: number
  readonly #max: number
  readonly #pool: Scaled
  readonly #timer: NodeJS.Timeout
  readonly #delay: IntervalHistogram
  #lastTick = performance.now()
  #lastRate: number | undefined
  /** Periods to wait before judging or moving: the one after a move, or a damping hold. */
  #wait = 0
  #hold = 1
  #idleMs = 0
  /** Saturated at the last tick. */
  #saturated = false
  /** Sum and count of the measured periods' rates at the current size. */
  #rates = 0
  #periods = 0
  /** The last move was a step up not yet judged. */
  #probing = false

  constructor(pool: Scaled, min: number, max: number) {
    this.#pool = pool
    this.#min = min
    this.#max = max
    this.target = min
    this.#delay = monitorEventLoopDelay({ resolution: 20 })
    this.#delay.enable()
    this.#timer = setInterval(() => this.#tick(), PERIOD_MS).unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#delay.disable()
  }

  #tick(): void {
    const now = performance.now()
    const done = this.completed
    const rate = (done * 1000) / (now - this.#lastTick)
    const delayMs = this.#delay.percentile(99) / 1e6
    this.completed = 0
    this.#lastTick = now
    this.#delay.reset()
    const live = this.#pool.live()
    if (live === 0 && done === 0) {
      // Nothing ran in the whole period.
      this.#idleMs += PERIOD_MS
      if (this.#idleMs >= IDLE_MS) this.#move(-1)
    } else this.#idleMs = 0
    if (delayMs > MAX_LOOP_DELAY_MS && this.target > this.#min) {
      this.#move(-1)
      return this.#settle(1 + this.#hold)
    }
    // Only a pool saturated (more tasks than workers) for a whole period says anything about its size.
    const saturated = live > this.#pool.workers() && this.#pool.workers() >= this.target
    const measured = saturated && this.#saturated
    this.#saturated = saturated
    if (!measured) {
      // A probe the work did not last long enough to judge is not kept.
      if (this.#probing) this.#move(-1)
      return this.#settle(0)
    }
    if (this.#wait > 0) {
      this.#wait--
      return
    }
    // A size's rate is the mean of JUDGE_PERIODS measured periods: one period is too noisy on a shared machine.
    this.#rates += rate
    if (++this.#periods < JUDGE_PERIODS) return
    const mean = this.#rates / this.#periods
    this.#rates = 0
    this.#periods = 0
    const last = this.#lastRate
    if (last === undefined || mean > last * (1 + NOISE)) {
      // A baseline, or the last step up paid: measure here, and probe one more.
      if (last !== undefined) this.#hold = 1
      this.#lastRate = mean
      this.#probing = this.#move(1)
      this.#wait = this.#probing ? 1 : this.#hold // judge a move on the period after it settled
      return
    }
    // No better for an extra worker: step back, and hold still longer each time.
    this.#move(-1)
    this.#settle(1 + this.#hold)
    this.#hold = Math.min(MAX_HOLD, this.#hold * 2)
  }

  /** Starts again from a fresh baseline after `wait` periods. */
  #settle(wait: number): void {
    this.#lastRate = undefined
    this.#rates = 0
    this.#periods = 0
    this.#probing = false
    this.#wait = wait
  }

  /** Moves the target by one within the bounds; false when at a bound. */
  #move(by: 1 | -1): boolean {
    const next = this.target + by
    if (next < this.#min || next > this.#max) return false
    this.target = next
    if (by < 0 && this.#pool.workers() > next) this.#pool.retireExcess()
    return true
  }
}
