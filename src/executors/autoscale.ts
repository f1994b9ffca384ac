// A pool that sizes itself (`autoscale`): hill climbing on measured
// completions per second, as .NET's thread pool does, within [minWorkers,
// maxWorkers]. Every PERIOD_MS the pool's figures for the period go to the
// Climber, which holds the whole policy and no timers:
// - It judges only periods that had more tasks than workers from start to end
//   (otherwise more workers cannot help and the rate says nothing about the
//   size); a probe the work did not outlast is taken back unjudged.
// - A size's rate is the mean of JUDGE_PERIODS such periods, from the second
//   period after its last worker said it was ready.
// - From a measured baseline it probes up. A probe that raises the rate by more
//   than NOISE, and by more than the machine's measured noise explains (2
//   standard errors while climbing, 3 at a plateau), is kept, becomes the
//   baseline, and the next probe up is twice as big (1, 2, 4 … workers: a
//   blocking workload that wants 32 workers gets them in 5 probes, not 31). A
//   probe of several workers that does not pay is retried at half the size.
// - When one more worker does not pay, it probes one fewer, but never down to a
//   size measured slower in the last MEMORY_PERIODS: a size shown (noise
//   allowed for) to keep the rate within NOISE is kept, so a climb that noise
//   carried too far comes back down, and it goes on down from there.
// - Every probe that does not pay is taken back; after one of a single worker
//   the climber holds still for a number of periods that doubles each time
//   (damping, up to MAX_HOLD), so a plateau is probed less and less often; a
//   kept probe resets it.
// - When the main thread's event-loop delay (p99 over a period) passes
//   MAX_LOOP_DELAY_MS it steps down whatever the rate says: the workers are
//   starving the thread that feeds them. After IDLE_MS with nothing to do it
//   drops a worker per period toward minWorkers.
// The pool counts completions into `completed` (one addition per batch) and
// asks `target` when it would start a worker: nothing else on the hot path.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

/** How often the pool's figures go to the climber. */
export const PERIOD_MS = 250
/** The smallest change of rate that counts (5 %), whatever the noise. */
export const NOISE = 0.05
/** Measured periods averaged into one size's rate. */
export const JUDGE_PERIODS = 3
/** The longest damping hold at a plateau, in periods (8 s). */
export const MAX_HOLD = 32
/** An event-loop delay p99 (ms) past which the pool steps down: its workers starve the thread that feeds them. */
export const MAX_LOOP_DELAY_MS = 100
/** Idle this long (ms), the pool drops a worker a period toward minWorkers. */
export const IDLE_MS = 2000
/** How long (periods, 1 min) a size measured slower is remembered. */
export const MEMORY_PERIODS = 240

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
  /** Some of them have not finished starting (a child process can take a second on a busy machine). */
  starting(): boolean
  /** The target fell below the workers running: stop the extra ones as they go idle. */
  retireExcess(): void
}

/** One period of a pool, as the climber sees it. */
export interface Period {
  /** Tasks finished per second. */
  rate: number
  /** More tasks than workers, and as many workers as the target, at the period's end. */
  saturated: boolean
  /** Nothing ran in the whole period. */
  idle: boolean
  /** The main thread's event-loop delay p99 over the period, ms. */
  delayMs: number
  /** Workers were still starting at the period's end: the rate does not yet show the size. */
  starting?: boolean
}

/** The controller's policy: one period's figures in, the target out. */
export class Climber {
  /** The most workers the pool may run now. */
  target: number
  readonly #min: number
  readonly #max: number
  /** The mean rate measured at the target before the probe in flight; undefined until measured. */
  #baseline: number | undefined
  /** Sizes up to this one were measured slower than a larger one (the start of the last probe up that paid): no probe down goes there. */
  #slower = 0
  /** Periods until that is forgotten (the work may have changed). */
  #slowerFor = 0
  /** The best mean rate judged while #slower holds: a step down is measured against it, so losses do not chain. */
  #peak = 0
  /** The probe in flight, in workers (negative: down), not yet judged; 0 for none. */
  #probe = 0
  /** The size of the next probe up: doubles while probes pay. */
  #step = 1
  /** The next probe goes down: one up did not pay. */
  #down = false
  /** Periods to wait before judging or moving: the one after a move, or a damping hold. */
  #wait = 0
  #hold = 1
  #idleMs = 0
  /** Saturated at the end of the last period. */
  #saturated = false
  /** Sums of the measured periods' rates, and of their logs and squared logs, and their count, at the current size. */
  #rates = 0
  #logs = 0
  #squares = 0
  #periods = 0
  /** The variance of one period's log rate at a fixed size: the machine's noise, a moving average over the judged sizes from a prior of 15 % a period. */
  #noise = 0.15 ** 2

  constructor(min: number, max: number) {
    this.#min = min
    this.#max = max
    this.target = min
  }

  period({ rate, saturated, idle, delayMs, starting = false }: Period): number {
    if (this.#slowerFor > 0 && --this.#slowerFor === 0) this.#slower = this.#peak = 0
    if (idle) {
      this.#idleMs += PERIOD_MS
      if (this.#idleMs >= IDLE_MS) this.#move(-1)
    } else this.#idleMs = 0
    if (delayMs > MAX_LOOP_DELAY_MS && this.target > this.#min) {
      this.#move(-1)
      this.#settle(1 + this.#hold)
      return this.target
    }
    // Only a pool saturated for a whole period (at its start and its end) says anything about its size.
    const measured = saturated && this.#saturated
    this.#saturated = saturated
    // A size is judged from the period after its last worker started, however long that takes.
    if (starting && saturated) {
      this.#wait = Math.max(this.#wait, 1)
      return this.target
    }
    if (!measured) {
      // A probe the work did not last long enough to judge is not kept.
      this.#move(-this.#probe)
      this.#settle(0)
      this.#slower = this.#peak = 0
      return this.target
    }
    if (this.#wait > 0) {
      this.#wait--
      return this.target
    }
    // A size's rate is the mean of JUDGE_PERIODS measured periods: one period is too noisy on a shared machine.
    const log = Math.log(Math.max(rate, 1e-9))
    this.#rates += rate
    this.#logs += log
    this.#squares += log * log
    if (++this.#periods < JUDGE_PERIODS) return this.target
    const n = this.#periods
    const mean = this.#rates / n
    const variance = Math.max(0, (this.#squares - this.#logs ** 2 / n) / (n - 1))
    this.#noise += (variance - this.#noise) / 4
    this.#rates = this.#logs = this.#squares = this.#periods = 0
    this.#judge(mean)
    return this.target
  }

  #judge(mean: number): void {
    const baseline = this.#baseline
    const probe = this.#probe
    // The standard error of the difference of two sizes' mean log rates. Twice it, noise alone reaches 1
    // time in 40; at a plateau (a probe has failed since the last that paid) a gain must pass three times
    // it (1 in 700), or the probes every few seconds would let noise walk the size up.
    const error = Math.sqrt((2 * this.#noise) / JUDGE_PERIODS)
    const gain = (this.#hold > 1 ? 3 : 2) * error
    // A probe up is kept when it raised the rate by more than NOISE and more than noise explains; a probe
    // down when its loss is shown, noise allowed for, to be less than NOISE (so a chain of small losses stops).
    const change = baseline === undefined ? 0 : Math.log(mean / (probe < 0 ? Math.max(baseline, this.#peak) : baseline))
    this.#peak = Math.max(this.#peak, mean)
    const kept = baseline === undefined || probe === 0 || (probe > 0 ? change > Math.max(Math.log1p(NOISE), gain) : change - 2 * error >= Math.log(1 - NOISE))
    if (kept) {
      if (probe !== 0) this.#hold = 1
      if (probe > 0) {
        this.#step *= 2
        this.#slower = this.target - probe
        this.#slowerFor = MEMORY_PERIODS
      }
      this.#baseline = mean
      return this.#probeNext()
    }
    this.#move(-probe)
    if (probe > 1) {
      // Several workers did not pay: half as many may.
      this.#step = Math.max(1, probe >> 1)
      return this.#settle(1)
    }
    // At a plateau: try the other way next, after a hold that grows each time.
    this.#step = 1
    this.#down = probe > 0
    this.#settle(1 + this.#hold)
    this.#hold = Math.min(MAX_HOLD, this.#hold * 2)
  }

  /** Probes the next size, up by the step or down by one (not to a size known slower); the other way when it cannot; else holds. */
  #probeNext(): void {
    const up = () => this.#move(this.#step)
    const down = () => (this.target - 1 > this.#slower ? this.#move(-1) : 0)
    this.#probe = this.#down ? down() || up() : up() || down()
    if (this.#probe !== 0) this.#down = this.#probe < 0
    this.#wait = this.#probe !== 0 ? 1 : this.#hold // judge a move on the period after it settled
  }

  /** Starts again from a fresh baseline after `wait` periods. */
  #settle(wait: number): void {
    this.#baseline = undefined
    this.#rates = this.#logs = this.#squares = this.#periods = 0
    this.#probe = 0
    this.#wait = wait
  }

  /** Moves the target by up to `by` within the bounds; returns how far it moved. */
  #move(by: number): number {
    const next = Math.min(this.#max, Math.max(this.#min, this.target + by))
    const moved = next - this.target
    this.target = next
    return moved
  }
}

/** The climber on a pool: reads the pool's figures every PERIOD_MS and stops the workers past a lowered target. */
export class Autoscale {
  /** Tasks finished since the last period: the pool adds to it. */
  completed = 0
  readonly #climber: Climber
  readonly #pool: Scaled
  readonly #timer: NodeJS.Timeout
  readonly #delay: IntervalHistogram
  #lastTick = performance.now()

  constructor(pool: Scaled, min: number, max: number) {
    this.#pool = pool
    this.#climber = new Climber(min, max)
    this.#delay = monitorEventLoopDelay({ resolution: 20 })
    this.#delay.enable()
    this.#timer = setInterval(() => this.#tick(), PERIOD_MS).unref()
  }

  /** The most workers the pool may start now. */
  get target(): number {
    return this.#climber.target
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
    const workers = this.#pool.workers()
    const before = this.#climber.target
    const target = this.#climber.period({ rate, delayMs, idle: live === 0 && done === 0, saturated: live > workers && workers >= before, starting: this.#pool.starting() })
    if (target < before && workers > target) this.#pool.retireExcess()
  }
}
