// The bench's statistics, in one place.
//
// A point's figures are the median of its rounds with the distribution-free
// 95 % interval for a median: a pair of order statistics, chosen from the
// binomial distribution, that holds the true median with at least 95 %
// probability whatever the rounds' distribution (round times are skewed: a
// busy machine only ever slows a round). A bootstrap percentile interval,
// used before, is too narrow at the 5-10 rounds a sweep takes (about 88 %
// coverage at 7 rounds), so noise passed for differences.
//
// Two sizes are compared pass by pass (round k of each ran close in time, so
// drift cancels): the geometric mean of their per-pass throughput ratios with
// a Student t interval on the log ratios. Paired log ratios are near symmetric,
// so the t interval fits them, and unlike an order-statistic interval at a few
// rounds its ends are not set by one bad round alone.

/** A median with its 95 % confidence interval, in the measured unit. */
export interface Estimate { median: number; low: number; high: number }

/** One point's throughput ÷ another's: the geometric mean of the per-pass ratios and its 95 % interval. */
export interface Ratio { mean: number; low: number; high: number }

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * The median of `values` and its 95 % order-statistic interval: the k-th
 * smallest and k-th largest value, k the largest whose two tails hold at most
 * 5 % of Binomial(n, ½). Up to 8 values k is 1, the whole range, which below
 * 6 values holds the median less than 95 % of the time (93.75 % at 5).
 */
export function estimate(values: readonly number[]): Estimate {
  if (values.length === 0) return { median: 0, low: 0, high: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const k = orderStatistic(sorted.length)
  return { median: median(sorted), low: sorted[k - 1]!, high: sorted[sorted.length - k]! }
}

/** The largest k with 2·P(Binomial(n, ½) < k) ≤ 5 %, at least 1. */
function orderStatistic(n: number): number {
  // The terms are summed from logs: 0.5 ** n is 0 past 1074 values, and a sum of zeros never grows.
  let logTerm = n * Math.log(0.5) // log P(X = k − 1)
  let below = Math.exp(logTerm) // P(X < k)
  for (let k = 1; ; k++) {
    logTerm += Math.log((n - k + 1) / k)
    const next = Math.exp(logTerm) // P(X = k)
    if (2 * (below + next) > 0.05) return k
    below += next
  }
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
 * a ÷ b for two points measured in the same passes, paired by pass: the
 * geometric mean of the per-pass ratios and its 95 % t interval.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Ratio {
  const n = Math.min(a.length, b.length)
  const logs = Array.from({ length: n }, (_, i) => Math.log(a[i]! / b[i]!))
  if (n === 0) return { mean: 1, low: 0, high: Infinity }
  const mean = logs.reduce((s, x) => s + x, 0) / n
  if (n === 1) return { mean: Math.exp(mean), low: 0, high: Infinity }
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1))
  const half = studentT975(n - 1) * (sd / Math.sqrt(n))
  return { mean: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) }
}

/** A size is as fast as the best unless its rounds show it more than this share slower. */
export const TOLERANCE = 0.05

export interface Verdict {
  /** The series with the highest median. */
  best: number
  /** Per series: its interval of throughput ÷ the best's reaches 1 − TOLERANCE, so it cannot be told from the best. */
  equal: boolean[]
  /**
   * More rounds would not change the first equal series: the earlier ones are
   * shown more than 5 % slower than the best, and it is shown within 5 % of
   * every other (each ratio's interval lies above 1 − TOLERANCE), whichever
   * of them turns out fastest.
   */
  settled: boolean
}

/** Per-round throughputs of the sizes of one executor, smallest first, measured in the same passes: which are as fast as the best. */
export function verdict(series: ReadonlyArray<readonly number[]>): Verdict {
  const medians = series.map(median)
  const best = medians.indexOf(Math.max(...medians))
  const ratios = series.map((s) => pairedRatio(s, series[best]!))
  const equal = ratios.map((r, i) => i === best || r.high >= 1 - TOLERANCE)
  const chosen = series[equal.indexOf(true)]!
  const settled = series.every((s) => s === chosen || pairedRatio(chosen, s).low >= 1 - TOLERANCE)
  return { best, equal, settled }
}

// The 97.5 % quantile of Student's t for 1..30 degrees of freedom; above, a Cornish-Fisher expansion (within 0.001).
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

export function studentT975(df: number): number {
  if (df <= T975.length) return T975[df - 1]!
  const z = 1.959964
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
}
