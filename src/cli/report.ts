// The sweep's results as a table, JSON or CSV, and the recommendation.

import type { BenchOptions, ExecutorKind } from './args.js'
import { busyShares } from './machine.js'
import { pairedRatio, spread, verdict, type Estimate, type Ratio } from './stats.js'
import type { Point, SweepResult } from './sweep.js'

export interface Recommendation {
  /** The smallest pool whose throughput cannot be told from the best. */
  point: Point
  /** Every size that cannot be told from the best, smallest first. */
  equal: number[]
  /** The verdict in a sentence. */
  words: string
}

/**
 * Per executor: the smallest pool whose throughput cannot be told from the
 * best's (the 95 % interval of their pass-by-pass ratio reaches 0.95: the
 * rounds do not show it more than 5 % slower), which is as fast and costs the least.
 */
export function recommend(points: Point[]): Partial<Record<ExecutorKind, Recommendation>> {
  const out: Partial<Record<ExecutorKind, Recommendation>> = {}
  for (const kind of new Set(points.map((p) => p.executor))) {
    const mine = points.filter((p) => p.executor === kind && !p.autoscale).sort((a, b) => a.workers - b.workers)
    const v = verdict(mine.map((p) => p.roundThroughputs))
    const equal = mine.filter((_, i) => v.equal[i])
    const point = equal[0]!
    const sizes = equal.map((p) => p.workers)
    const words = sizes.length === 1
      ? `${point.workers} ${workersWord(point.workers)} ${point.workers === 1 ? 'is' : 'are'} clearly the fastest`
      : `${list(sizes)} workers are equal within noise; ${point.workers} is the smallest`
    out[kind] = { point, equal: sizes, words }
  }
  return out
}

function workersWord(n: number): string {
  return n === 1 ? 'worker' : 'workers'
}

function list(items: number[]): string {
  return items.length <= 2 ? items.join(' and ') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`
}

export interface AutoscaleVerdict {
  /** The size it had chosen when the rounds ended. */
  workers: number
  throughput: Estimate
  /** Its throughput ÷ the fastest fixed size's, paired by pass. */
  vsBest: { workers: number; ratio: Ratio }
  /** Its throughput ÷ a fixed pool of os.availableParallelism() workers', when that size was swept. */
  vsCores: { workers: number; ratio: Ratio } | undefined
}

/** Per executor with an autoscaled point: how it did against the fixed sizes measured in the same passes. */
export function autoscaleVerdicts(points: Point[], cores: number): Partial<Record<ExecutorKind, AutoscaleVerdict>> {
  const out: Partial<Record<ExecutorKind, AutoscaleVerdict>> = {}
  for (const auto of points.filter((p) => p.autoscale)) {
    const fixed = points.filter((p) => p.executor === auto.executor && !p.autoscale)
    const best = fixed.reduce((a, b) => (b.throughput.median > a.throughput.median ? b : a))
    const atCores = fixed.find((p) => p.workers === cores)
    const against = (p: Point) => ({ workers: p.workers, ratio: pairedRatio(auto.roundThroughputs, p.roundThroughputs) })
    out[auto.executor] = { workers: auto.workers, throughput: auto.throughput, vsBest: against(best), vsCores: atCores && against(atCores) }
  }
  return out
}

function ratioWords(r: { workers: number; ratio: Ratio }, what: string): string {
  return `${r.ratio.mean.toFixed(2)}× (${r.ratio.low.toFixed(2)} to ${r.ratio.high.toFixed(2)}) ${what} (${r.workers} ${workersWord(r.workers)})`
}

/** `970 ± 14`: the median and the larger distance to its 95 % interval's ends. */
export function withSpread(e: Estimate, digits = 0): string {
  return `${e.median.toFixed(digits)} ± ${spread(e).toFixed(digits)}`
}

const STATISTICS = 'median of the rounds ± 95 % order-statistic interval; sizes compared pass by pass (geometric mean ratio, 95 % t interval)'

/**
 * The --json document (schema version 3):
 * { schema: 2, workload: { name, module, exportName, args }, tasksPerRound, minRounds, timeBudgetS, cores,
 *   statistics: how each estimate is made,
 *   machine: { busy, warnings: string[], otherCpuShare, stealShare },
 *   points: Point[] (see sweep.ts; every Estimate is { median, low, high }),
 *   recommendation: { thread?: { workers, throughput: Estimate, equalWithinNoise: number[], words }, process?: ... },
 *   autoscale: { thread?: AutoscaleVerdict, process?: ... } (with --workers auto; empty otherwise; each ratio is { mean, low, high }) }
 */
export function toJson(result: SweepResult, options: BenchOptions, cores: number): string {
  const { name, module, exportName, args } = options.workload
  const recommendation = Object.fromEntries(Object.entries(recommend(result.points)).map(([kind, r]) =>
    [kind, { workers: r.point.workers, throughput: r.point.throughput, equalWithinNoise: r.equal, words: r.words }]))
  const machine = { busy: result.warnings.length > 0, warnings: result.warnings, ...busyShares(result.cpu) }
  return JSON.stringify({
    schema: 3, workload: { name, module, exportName, args }, tasksPerRound: options.tasks, minRounds: options.rounds, timeBudgetS: options.timeBudget, cores,
    statistics: STATISTICS,
    machine, points: result.points, recommendation, autoscale: autoscaleVerdicts(result.points, cores),
  }, null, 2)
}

const COLUMNS = ['executor', 'workers', 'rounds', 'tasks/s', 'speedup', 'efficiency', 'p50 ms', 'p95 ms', 'p99 ms', 'loop p99 ms', 'cpu %', 'peak rss MiB'] as const

function cells(p: Point): string[] {
  return [
    p.executor, p.autoscale ? `auto→${p.workers}` : String(p.workers), String(p.rounds), withSpread(p.throughput), p.speedup.toFixed(2), `${(p.efficiency * 100).toFixed(0)}%`,
    p.latencyMs.p50.median.toFixed(1), p.latencyMs.p95.median.toFixed(1), withSpread(p.latencyMs.p99, 1), p.loopDelayP99Ms.toFixed(2),
    (p.cpuUtilisation * 100).toFixed(0), p.peakRssMiB.toFixed(0),
  ]
}

export function toCsv(points: Point[]): string {
  const ranged = (name: string) => [name, `${name}_low`, `${name}_high`]
  const header = ['executor', 'workers', 'rounds', ...ranged('throughput'), 'speedup', 'efficiency', ...ranged('p50_ms'), ...ranged('p95_ms'), ...ranged('p99_ms'), 'loop_delay_p99_ms', 'cpu_utilisation', 'peak_rss_mib', 'autoscale']
  const range = (e: Estimate) => [e.median, e.low, e.high]
  const rows = points.map((p) => [
    p.executor, p.workers, p.rounds, ...range(p.throughput), p.speedup, p.efficiency, ...range(p.latencyMs.p50), ...range(p.latencyMs.p95), ...range(p.latencyMs.p99),
    p.loopDelayP99Ms, p.cpuUtilisation, p.peakRssMiB, p.autoscale ? 1 : 0,
  ].map((v) => (typeof v === 'number' ? +v.toFixed(4) : v)).join(','))
  return [header.join(','), ...rows].join('\n')
}

export function toTable(result: SweepResult, options: BenchOptions, cores: number): string {
  const rows = [[...COLUMNS], ...result.points.map(cells)]
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const { name, args } = options.workload
  const lines = [
    `${name}(${args.map((a) => JSON.stringify(a)).join(', ')}): ${options.tasks} tasks per round, at least ${options.rounds} rounds per point, ${cores} cores`,
    `${STATISTICS}; cpu % is this process and its workers' share of the machine`,
    '',
    line(rows[0]!),
    ...rows.slice(1).map(line),
    '',
  ]
  for (const [kind, r] of Object.entries(recommend(result.points))) {
    lines.push(`recommended ${kind} pool: maxWorkers ${r.point.workers} (${withSpread(r.point.throughput)} tasks/s): ${r.words}`)
  }
  for (const [kind, v] of Object.entries(autoscaleVerdicts(result.points, cores))) {
    const cores = v.vsCores ? `, ${ratioWords(v.vsCores, 'a fixed os.availableParallelism()')}` : ''
    lines.push(`autoscaled ${kind} pool: ${withSpread(v.throughput)} tasks/s at ${v.workers} ${workersWord(v.workers)}: ${ratioWords(v.vsBest, 'the best fixed size')}${cores}`)
  }
  return lines.join('\n')
}
