// The sweep's results as a table, JSON or CSV, and the recommendation.

import type { BenchOptions, ExecutorKind } from './args.js'
import type { Point } from './sweep.js'

/** The smallest pool within 5 % of the best throughput, per executor. */
export function recommend(points: Point[]): Partial<Record<ExecutorKind, Point>> {
  const best: Partial<Record<ExecutorKind, Point>> = {}
  for (const kind of new Set(points.map((p) => p.executor))) {
    const mine = points.filter((p) => p.executor === kind)
    const top = Math.max(...mine.map((p) => p.throughput))
    best[kind] = mine.filter((p) => p.throughput >= 0.95 * top).sort((a, b) => a.workers - b.workers)[0]!
  }
  return best
}

/**
 * The --json document (schema version 1):
 * { schema: 1, workload: { name, module, exportName, args }, tasksPerRound, rounds, cores,
 *   points: Point[] (see sweep.ts), recommendation: { thread?: { workers, throughput }, process?: ... } }
 */
export function toJson(points: Point[], options: BenchOptions, cores: number): string {
  const { name, module, exportName, args } = options.workload
  const recommendation = Object.fromEntries(Object.entries(recommend(points)).map(([kind, p]) => [kind, { workers: p.workers, throughput: p.throughput }]))
  return JSON.stringify({ schema: 1, workload: { name, module, exportName, args }, tasksPerRound: options.tasks, rounds: options.rounds, cores, points, recommendation }, null, 2)
}

const COLUMNS = ['executor', 'workers', 'tasks/s', 'speedup', 'efficiency', 'p50 ms', 'p95 ms', 'p99 ms', 'loop p99 ms', 'cpu %', 'peak rss MiB'] as const

function cells(p: Point): string[] {
  return [
    p.executor, String(p.workers), p.throughput.toFixed(0), p.speedup.toFixed(2), `${(p.efficiency * 100).toFixed(0)}%`,
    p.latencyMs.p50.toFixed(2), p.latencyMs.p95.toFixed(2), p.latencyMs.p99.toFixed(2), p.loopDelayP99Ms.toFixed(2),
    (p.cpuUtilisation * 100).toFixed(0), p.peakRssMiB.toFixed(0),
  ]
}

export function toCsv(points: Point[]): string {
  const header = ['executor', 'workers', 'throughput', 'speedup', 'efficiency', 'p50_ms', 'p95_ms', 'p99_ms', 'loop_delay_p99_ms', 'cpu_utilisation', 'peak_rss_mib']
  const rows = points.map((p) => [p.executor, p.workers, p.throughput, p.speedup, p.efficiency, p.latencyMs.p50, p.latencyMs.p95, p.latencyMs.p99, p.loopDelayP99Ms, p.cpuUtilisation, p.peakRssMiB].map((v) => (typeof v === 'number' ? +v.toFixed(4) : v)).join(','))
  return [header.join(','), ...rows].join('\n')
}

export function toTable(points: Point[], options: BenchOptions, cores: number): string {
  const rows = [[...COLUMNS], ...points.map(cells)]
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const { name, args } = options.workload
  const lines = [
    `${name}(${args.map((a) => JSON.stringify(a)).join(', ')}): ${options.tasks} tasks per round, median of ${options.rounds} rounds, ${cores} cores`,
    '',
    line(rows[0]!),
    ...rows.slice(1).map(line),
    '',
  ]
  for (const [kind, p] of Object.entries(recommend(points))) {
    lines.push(`recommended ${kind} pool: maxWorkers ${p.workers} (${p.throughput.toFixed(0)} tasks/s, the smallest within 5 % of the best)`)
  }
  return lines.join('\n')
}
