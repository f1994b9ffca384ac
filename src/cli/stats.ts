// The bench's statistics, in one place: the median of a point's rounds and a
// 95 % bootstrap (percentile) confidence interval for it. Bootstrap rather
// than a t interval because round times are skewed (a busy machine only ever
// slows a round) and the median has no simple t form; the resampling uses a
// fixed seed, so the same rounds always give the same interval.

/** A median with its 95 % confidence interval, in the measured unit. */
export interface Estimate { median: number; low: number; high: number }

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const RESAMPLES = 2000

/** The median of `values` and its 95 % bootstrap percentile interval. */
export function estimate(values: readonly number[]): Estimate {
  if (values.length === 0) return { median: 0, low: 0, high: 0 }
  const random = seededRandom(0x5eed)
  const medians = new Float64Array(RESAMPLES)
  const sample = new Array<number>(values.length)
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[Math.floor(random() * values.length)]!
    medians[r] = median(sample)
  }
  medians.sort()
  return { median: median(values), low: medians[Math.floor(0.025 * RESAMPLES)]!, high: medians[Math.ceil(0.975 * RESAMPLES) - 1]! }
}

/** Half the interval's width as a share of the median: the figure the sweep narrows. */
export function relativeHalfWidth(e: Estimate): number {
  return e.median === 0 ? 0 : (e.high - e.low) / 2 / e.median
}

/** The larger of the two distances from the median to the interval's ends: the "± x" printed. */
export function spread(e: Estimate): number {
  return Math.max(e.high - e.median, e.median - e.low)
}

/**
 * The ratio a ÷ b of two points measured in interleaved rounds, paired by
 * round (round k of each ran close in time, so drift cancels): the median of
 * the per-round ratios and its 95 % bootstrap interval.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Estimate {
  const n = Math.min(a.length, b.length)
  return estimate(Array.from({ length: n }, (_, i) => a[i]! / b[i]!))
}

/**
 * A point cannot be told from the best: the interval of its paired ratio to
 * the best reaches 1, or the ratio's median is within `tolerance` of 1.
 */
export function indistinguishable(point: readonly number[], best: readonly number[], tolerance = 0.05): boolean {
  const ratio = pairedRatio(point, best)
  return ratio.high >= 1 || ratio.median >= 1 - tolerance
}

/** mulberry32, a small seeded PRNG: reproducible resampling (and soak schedules) without a dependency. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}
