// npm run soak: the long seeded fault soak over both pools.
//
//   SOAK_MINUTES=10 npm run soak          seeds one after another for 10 minutes (the default)
//   SOAK_RUNS=50 npm run soak             50 seeds
//   SOAK_SEED=1234 npm run soak           replay one seed
//   SOAK_TASKS=300                        tasks per run (default 300)
//   SOAK_FIRST_SEED=1000                  where the seeds start (default: from the clock, printed)
//   SOAK_JOBS=2                           runs at once (default 1)
//   SOAK_WITHOUT=hostile,maxQueued        leave these faults out, to look past a known defect
//                                         (hostile throws, maxQueued pools, SIGKILLs, OOM)
//
// Prints a line per run, then a summary table, the faults by kind, and the
// failures by class with a seed that replays each. The details of every failed
// run go to a file, whose path is printed. Exits 1 if any run failed.

import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeFailure, soakRun, type RunResult } from './harness.js'
import { OMITTABLE, type Omittable } from './schedule.js'

const env = process.env
const tasks = Number(env.SOAK_TASKS ?? 300)
const jobs = Number(env.SOAK_JOBS ?? 1)
const without = (env.SOAK_WITHOUT ?? '').split(',').filter(Boolean) as Omittable[]
for (const fault of without) if (!OMITTABLE.includes(fault)) throw new Error(`SOAK_WITHOUT: unknown fault ${fault}; known: ${OMITTABLE.join(', ')}`)
const single = env.SOAK_SEED === undefined ? undefined : Number(env.SOAK_SEED)
const runs = single !== undefined ? 1 : env.SOAK_RUNS === undefined ? Infinity : Number(env.SOAK_RUNS)
const minutes = env.SOAK_RUNS === undefined && single === undefined ? Number(env.SOAK_MINUTES ?? 10) : Infinity
const firstSeed = single ?? Number(env.SOAK_FIRST_SEED ?? Date.now() % 1_000_000)
/** A run this size takes seconds; one that takes minutes has hung. */
const RUN_TIMEOUT_MS = 60_000 + tasks * 600
const WIDTHS = [8, 16, 6, 7, 10, 6, 11, 13, 7]

const deadline = Date.now() + minutes * 60_000
const results: RunResult[] = []
let next = firstSeed
let running = 0
console.log(`soak: ${tasks} tasks per run, seeds from ${firstSeed}, ${single !== undefined ? 'one seed' : runs !== Infinity ? `${runs} runs` : `${minutes} minutes`}, ${jobs} at once${without.length ? `, without ${without.join(', ')}` : ''}`)

async function worker(): Promise<void> {
  while (results.length + running < runs && Date.now() < deadline) {
    const seed = next++
    running++
    const result = await soakRun(seed, tasks, { timeoutMs: RUN_TIMEOUT_MS, shutdownBoundMs: 20_000, without })
    running--
    results.push(result)
    console.log(row(result))
  }
}
await Promise.all(Array.from({ length: jobs }, worker))

console.log(`\n${header()}\n${results.map(row).join('\n')}`)
const failed = results.filter((r) => r.violations.length > 0)
printTotals()
if (failed.length > 0) {
  const path = join(tmpdir(), `soak-failures-${firstSeed}.txt`)
  writeFileSync(path, failed.map(describeFailure).join('\n\n'))
  console.log(`\ndetails of the ${failed.length} failed run(s): ${path}`)
}
process.exitCode = failed.length > 0 ? 1 : 0

function header(): string {
  return ['seed', 'pool', 'tasks', 'faults', 'unsettled', 'wrong', 'procs left', 'handles left', 'ms', 'failures'].map((h, i) => h.padEnd(WIDTHS[i]!)).join(' ')
}

function row(result: RunResult): string {
  const r = result.report
  const faults = r ? Object.entries(r.faults).filter(([k]) => !/^return$|^throw$|^remote call$|pool$/.test(k)).reduce((n, [, v]) => n + v, 0) : '-'
  const cells = [
    result.seed, result.schedule.pool.kind, r?.submitted ?? '-', faults, r?.unsettled ?? '-', r?.wronglySettled ?? '-',
    r?.processesLeft.length ?? '-', r?.handlesLeft.length ?? '-', Math.round(result.ms),
  ].map((c, i) => String(c).padEnd(WIDTHS[i]!))
  return [...cells, classes(result) || 'ok'].join(' ')
}

function classes(result: RunResult): string {
  const counts = new Map<string, number>()
  for (const v of result.violations) counts.set(v.class, (counts.get(v.class) ?? 0) + 1)
  return [...counts].map(([c, n]) => `${c} x${n}`).join(', ')
}

function printTotals(): void {
  const faults = new Map<string, number>()
  for (const r of results) for (const [kind, n] of Object.entries(r.report?.faults ?? {})) faults.set(kind, (faults.get(kind) ?? 0) + n)
  const sum = (pick: (r: RunResult) => number): number => results.reduce((n, r) => n + pick(r), 0)
  console.log(`\nruns ${results.length} (seeds ${firstSeed}..${next - 1}), failed ${failed.length}; tasks submitted ${sum((r) => r.report?.submitted ?? 0)}, refused ${sum((r) => r.report?.refused ?? 0)}`)
  console.log(`unsettled ${sum((r) => r.report?.unsettled ?? 0)}, wrongly settled ${sum((r) => r.report?.wronglySettled ?? 0)}, processes left ${sum((r) => r.report?.processesLeft.length ?? 0)}, handles left ${sum((r) => r.report?.handlesLeft.length ?? 0)}`)
  console.log('\nby pool:')
  for (const kind of ['thread', 'process-break', 'process-replace']) {
    const of = results.filter((r) => r.schedule.pool.kind === kind)
    console.log(`  ${kind.padEnd(16)} runs ${of.length}, failed ${of.filter((r) => r.violations.length > 0).length}`)
  }
  console.log('\nfaults by kind:')
  for (const [kind, n] of [...faults].sort((a, b) => b[1] - a[1])) console.log(`  ${kind.padEnd(40)} ${n}`)
  const byClass = new Map<string, { runs: Set<number>; tasks: number; example: string; pools: Set<string> }>()
  for (const r of results) {
    for (const v of r.violations) {
      const entry = byClass.get(v.class) ?? { runs: new Set(), tasks: 0, example: '', pools: new Set() }
      if (entry.runs.size === 0) entry.example = `seed ${r.seed}: ${v.detail}`
      entry.runs.add(r.seed)
      entry.pools.add(r.schedule.pool.kind)
      entry.tasks++
      byClass.set(v.class, entry)
    }
  }
  if (byClass.size === 0) return void console.log('\nno failures')
  console.log('\nfailures by class (runs, violations, pools, replay with SOAK_SEED=<first seed>):')
  for (const [cls, e] of [...byClass].sort((a, b) => b[1].runs.size - a[1].runs.size)) {
    console.log(`  ${cls.padEnd(28)} runs ${String(e.runs.size).padEnd(4)} violations ${String(e.tasks).padEnd(5)} ${[...e.pools].join('/')}`)
    console.log(`    seeds ${[...e.runs].slice(0, 8).join(', ')}${e.runs.size > 8 ? ', ...' : ''}; e.g. ${e.example.slice(0, 200)}`)
  }
}
