// Progress reports from one running task to its caller: how many arrive per
// second (the worker coalesces them to one per millisecond, the cap), blocked
// in result() or awaiting the progress() iterator; and what a report costs
// the task's own loop.

import type { Executor } from '../src/index.js'
import { median } from '../src/cli/timing.js'
import { row } from './report.js'
import { ROUNDS, tasks } from './workloads.js'

const REPORT_MS = 300
/** One message per millisecond: the most a task's reports can reach its caller (src/wire/progress.ts). */
const CAP = 1000

export async function benchProgress(ex: Executor, section: string): Promise<void> {
  console.error(`${section}: progress`)
  const blocked: number[] = []
  const awaited: number[] = []
  const calls: number[] = []
  const loops: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    let events = 0
    let start = performance.now()
    const reports = ex.submitWith({ onProgress: () => events++ }, tasks.reportFor, REPORT_MS).result()
    blocked.push((events / (performance.now() - start)) * 1000)
    calls.push((reports / REPORT_MS) * 1000)

    events = 0
    start = performance.now()
    for await (const _ of ex.submit(tasks.reportFor, REPORT_MS).progress()) events++
    awaited.push((events / (performance.now() - start)) * 1000)

    loops.push((ex.submit(tasks.countFor, REPORT_MS).result() / REPORT_MS) * 1000)
  }
  row(`${section}: progress events/s, one task to a blocked result()`, median(blocked), CAP, 'the cap: 1 per ms', '/s', '≈ 1× (less: start-up)')
  row(`${section}: progress events/s, one task to for await progress()`, median(awaited), CAP, 'the cap: 1 per ms', '/s', '≈ 1× (less: start-up)')
  row(`${section}: reportProgress() calls/s in the task's loop`, median(calls), median(loops), 'the same loop, no report', '/s', '–')
}
