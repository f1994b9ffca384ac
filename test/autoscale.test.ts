import { monitorEventLoopDelay } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import type { Future } from 'concurrent-futures'
import { Climber, IDLE_MS, JUDGE_PERIODS, MAX_LOOP_DELAY_MS, PERIOD_MS } from '../src/executors/autoscale.js'
import { seededRandom } from './seeded-random.js'
import { pool, processPool, tasks, until } from './helpers.js'

/**
 * The climber on a simulated pool, saturated throughout: each period's rate is
 * `rateAt(workers)` times log-normal noise of `noise` (a shared 2-core machine
 * moves a 250 ms period's rate by 10-20 %). Returns the target after each period.
 */
function climb(rateAt: (workers: number) => number, { max, periods, noise = 0.15, seed = 1, min = 1 }: { max: number; periods: number; noise?: number; seed?: number; min?: number }): number[] {
  const random = seededRandom(seed)
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const climber = new Climber(min, max)
  const targets: number[] = []
  for (let i = 0; i < periods; i++) {
    targets.push(climber.period({ rate: rateAt(climber.target) * Math.exp(noise * gauss()), saturated: true, idle: false, delayMs: 0 }))
  }
  return targets
}

const share = (targets: number[], ok: (t: number) => boolean): number => targets.filter(ok).length / targets.length
const moves = (targets: number[]): number => targets.filter((t, i) => i > 0 && t !== targets[i - 1]).length
const seeds = [1, 2, 3, 4, 5, 6, 7, 8]

describe('autoscale controller (simulated pools)', () => {
  it('a blocking workload that wants every worker: from 1 to 32 within 10 s, by doubling probes', () => {
    for (const seed of seeds) {
      const targets = climb((w) => 100 * w, { max: 32, periods: 40, seed })
      expect(targets.at(-1), `seed ${seed}`).toBe(32)
    }
  })

  it('CPU work on 2 cores: settles near 2, never wanders to the ceiling, and probes less and less, with the noise of a shared machine', () => {
    const cpu = (w: number) => 1000 * Math.min(w, 2) * 0.99 ** Math.max(0, w - 2) // each worker past the cores costs 1 %
    for (const seed of seeds) {
      const targets = climb(cpu, { max: 8, periods: 2400, seed }).slice(40) // 10 minutes, after the first 10 s
      expect(targets.reduce((s, t) => s + cpu(t), 0) / targets.length / cpu(2), `seed ${seed}`).toBeGreaterThanOrEqual(0.95)
      expect(Math.max(...targets), `seed ${seed}`).toBeLessThanOrEqual(5)
      expect(moves(targets.slice(-1200)), `seed ${seed}: moves in the last 5 minutes`).toBeLessThanOrEqual(80)
    }
  })

  it('noise does not walk it up a plateau: flat from 2 workers, with 25 % noise a period, it never creeps to the ceiling', () => {
    // While climbing, a probe up that noise made look better is kept 1 time in 40; at a plateau 1 in 700;
    // a probe down is kept only when shown within 5 %, so a size noise carried up may stay there (it costs
    // memory, not throughput), but each further step up is as unlikely as the first.
    for (const seed of seeds) {
      const targets = climb((w) => 1000 * Math.min(w, 2), { max: 8, periods: 2400, noise: 0.25, seed }).slice(40)
      expect(Math.max(...targets), `seed ${seed}`).toBeLessThanOrEqual(6)
      const mean = (part: number[]) => part.reduce((s, t) => s + t, 0) / part.length
      expect(mean(targets.slice(-1000)), `seed ${seed}: the last 4 minutes against the first`).toBeLessThanOrEqual(mean(targets.slice(0, 1000)) + 0.5)
    }
  })

  it('a linear workload (each worker adds its share) does not shrink by steps each too small to see', () => {
    for (const seed of seeds) {
      const targets = climb((w) => 100 * w, { max: 32, periods: 1200, seed }).slice(80)
      expect(targets.reduce((s, t) => s + t, 0) / targets.length, `seed ${seed}`).toBeGreaterThanOrEqual(30)
    }
  })

  it('a linear workload measured with little or no noise does not slide down step by step, each loss under 5 %', () => {
    for (const noise of [0, 0.005, 0.02]) {
      const targets = climb((w) => 100 * w, { max: 32, periods: 2400, noise }).slice(400)
      expect(Math.min(...targets), `noise ${noise}`).toBeGreaterThanOrEqual(28)
      expect(targets.reduce((s, t) => s + t, 0) / targets.length, `noise ${noise}`).toBeGreaterThanOrEqual(30)
    }
  })

  it('a workload whose best size is in the middle (6 of 16) finds it and stays near it', () => {
    const peaked = (w: number) => 1000 * (w <= 6 ? w : 6 * 0.9 ** (w - 6))
    for (const seed of seeds) {
      const targets = climb(peaked, { max: 16, periods: 1200, seed }).slice(80)
      expect(share(targets, (t) => t >= 5 && t <= 7), `seed ${seed}`).toBeGreaterThanOrEqual(0.85)
    }
  })

  it('idle: after IDLE_MS with nothing run, a worker less per period down to minWorkers', () => {
    const climber = new Climber(2, 8)
    for (let i = 0; i < 40; i++) climber.period({ rate: 100 * climber.target, saturated: true, idle: false, delayMs: 0 })
    expect(climber.target).toBe(8)
    const idle = { rate: 0, saturated: false, idle: true, delayMs: 0 }
    for (let i = 1; i < IDLE_MS / PERIOD_MS; i++) expect(climber.period(idle)).toBe(8)
    const after = Array.from({ length: 8 }, () => climber.period(idle))
    expect(after).toEqual([7, 6, 5, 4, 3, 2, 2, 2])
  })

  it('an event-loop delay past MAX_LOOP_DELAY_MS steps down whatever the rate says', () => {
    const climber = new Climber(1, 8)
    for (let i = 0; i < 40; i++) climber.period({ rate: 100 * climber.target, saturated: true, idle: false, delayMs: 0 })
    expect(climber.period({ rate: 1e6, saturated: true, idle: false, delayMs: MAX_LOOP_DELAY_MS + 1 })).toBe(7)
  })

  it('a worker slow to start (a child process on a busy machine) is judged once it is ready, not before', () => {
    const climber = new Climber(1, 8)
    const period = (rate: number, starting = false) => climber.period({ rate, saturated: true, idle: false, delayMs: 0, starting })
    for (let i = 0; i <= JUDGE_PERIODS; i++) period(100)
    expect(climber.target).toBe(2)
    for (let i = 0; i < 8; i++) expect(period(100, true)).toBe(2) // two seconds starting: the rate has not moved
    for (let i = 0; i <= JUDGE_PERIODS; i++) period(200) // ready: twice the rate
    expect(climber.target).toBe(4) // kept, and the next probe is twice as big
  })

  it('a probe the work did not outlast is taken back unjudged', () => {
    const climber = new Climber(1, 8)
    const busy = (rate: number) => climber.period({ rate, saturated: true, idle: false, delayMs: 0 })
    for (let i = 0; i <= JUDGE_PERIODS; i++) busy(100) // the baseline: measured periods after a saturated start
    expect(climber.target).toBe(2) // probing
    expect(climber.period({ rate: 100, saturated: false, idle: false, delayMs: 0 })).toBe(1)
  })
})

describe('autoscale', () => {
  for (const [kind, make] of [['thread', pool], ['process', processPool]] as const) it(`a ${kind} pool grows under a blocking sleep workload and shrinks when the work stops`, async (ctx) => {
    const ex = make({ maxWorkers: 6, autoscale: true })
    // A loop delay past MAX_LOOP_DELAY_MS makes the pool step down, by design: a machine loaded from outside does that.
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    expect(ex.maxWorkers).toBe(6)
    const live = new Set<Future<number>>()
    let feeding = true
    const feed = (async () => {
      while (feeding) {
        while (live.size < 16) {
          const f = ex.submit(tasks.sleepSync, 20)
          live.add(f)
          void f.then(() => live.delete(f))
        }
        await Promise.race(live)
      }
    })()
    try {
      // From 1: each step up that pays is kept. Loaded from outside, a machine's noise can hide a step that
      // paid: it is taken back, with a hold (up to 8 s) before the next, so the climb gets 45 s.
      await until(() => ex.workerCount >= 4, 45_000).catch((error: unknown) => {
        if (delay.max / 1e6 > MAX_LOOP_DELAY_MS) ctx.skip() // the pool was right not to grow: nothing to check
        throw error
      })
    } finally {
      delay.disable()
      feeding = false
      await feed
      await Promise.all(live)
    }
    await until(() => ex.workerCount <= 1, 15_000) // idle: a worker less per period, down to minWorkers
    await ex.shutdown()
  }, 75_000)

  it('stays within [minWorkers, maxWorkers] and starts at minWorkers', async () => {
    const ex = pool({ maxWorkers: 3, autoscale: { minWorkers: 2 } })
    await Promise.all(Array.from({ length: 4 }, () => ex.submit(tasks.sleepSync, 50)))
    expect(ex.workerCount).toBe(2)
    await ex.shutdown()
  })

  it.each([
    [{ autoscale: 'yes' }, TypeError, /autoscale must be an object, got 'yes'/],
    [{ autoscale: { min: 1 } }, TypeError, /has no option 'min'/],
    [{ autoscale: { minWorkers: 0 } }, RangeError, /autoscale\.minWorkers must be an integer from 1/],
    [{ maxWorkers: 2, autoscale: { minWorkers: 3 } }, RangeError, /autoscale\.minWorkers must be at most maxWorkers \(2\), got 3/],
  ])('%j is refused at the door', (options, type, message) => {
    expect(() => pool(options as never)).toThrow(type)
    expect(() => pool(options as never)).toThrow(message)
  })
})
