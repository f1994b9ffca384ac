import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { roundTicks } from '../src/cli/chart.js'
import { recommend } from '../src/cli/report.js'
import { estimate, indistinguishable, median } from '../src/cli/stats.js'
import type { Point } from '../src/cli/sweep.js'

const rounds = fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 })

function point(workers: number, roundThroughputs: number[]): Point {
  const e = estimate(roundThroughputs)
  const zero = { median: 0, low: 0, high: 0 }
  return {
    executor: 'thread', workers, autoscale: false, rounds: roundThroughputs.length, throughput: e, roundThroughputs, speedup: 1, efficiency: 1,
    latencyMs: { p50: zero, p95: zero, p99: zero }, loopDelayP99Ms: 0, cpuUtilisation: 0, peakRssMiB: 0,
  }
}

describe('bench statistics', () => {
  it('the interval holds the median, inside the rounds, and is the same for the same rounds', () => {
    fc.assert(fc.property(rounds, (values) => {
      const e = estimate(values)
      expect(e.low).toBeLessThanOrEqual(e.median)
      expect(e.median).toBeLessThanOrEqual(e.high)
      expect(e.low).toBeGreaterThanOrEqual(Math.min(...values))
      expect(e.high).toBeLessThanOrEqual(Math.max(...values))
      expect(estimate(values)).toEqual(e)
    }))
  })

  it('a point is indistinguishable from itself, and from any point within 5 %', () => {
    fc.assert(fc.property(rounds, fc.double({ min: 0.95, max: 1, noNaN: true }), (values, share) => {
      expect(indistinguishable(values, values)).toBe(true)
      expect(indistinguishable(values.map((v) => v * share), values)).toBe(true)
    }))
  })

  it('rounds paired by pass: drift that hits every size alike does not hide a real difference', () => {
    const drift = [1, 0.6, 1.1, 0.5, 0.9, 1.2, 0.7] // the machine's speed in each pass
    const best = drift.map((d) => 1000 * d)
    const slower = drift.map((d) => 800 * d) // 20 % slower in every pass
    // Unpaired, the two intervals overlap widely; paired, the ratio is 0.8 in every pass.
    expect(estimate(slower).high).toBeGreaterThan(estimate(best).low)
    expect(indistinguishable(slower, best)).toBe(false)
  })

  it('recommends the smallest size that cannot be told from the best, and says so', () => {
    const [r] = Object.values(recommend([point(1, [500, 510, 490]), point(2, [1000, 990, 1010]), point(3, [990, 1000, 1000]), point(4, [800, 790, 810])]))
    expect(r!.point.workers).toBe(2)
    expect(r!.equal).toEqual([2, 3])
    expect(r!.words).toBe('2 and 3 workers are equal within noise; 2 is the smallest')
    const [alone] = Object.values(recommend([point(1, [500, 510, 490]), point(2, [1000, 990, 1010])]))
    expect(alone!.words).toBe('2 workers are clearly the fastest')
  })

  it('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })

  it('y-axis ticks: 0, round steps, the last at or above the maximum', () => {
    fc.assert(fc.property(fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (max) => {
      const ticks = roundTicks(max)
      expect(ticks[0]).toBe(0)
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max)
      expect(ticks.length).toBeLessThanOrEqual(6)
      const step = ticks[1]!
      expect([1, 2, 2.5, 5]).toContain(+(step / 10 ** Math.floor(Math.log10(step) + 1e-9)).toPrecision(6))
    }))
    expect(roundTicks(970)).toEqual([0, 250, 500, 750, 1000])
  })
})
