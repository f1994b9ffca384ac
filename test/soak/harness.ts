// Runs one soak seed in a fresh process (run-one.ts) and judges what is left:
// its report, how it ended, and whether any process it started outlived it.
// Whatever happens in the run, everything it started is killed and its files
// removed before this returns.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunReport, Violation } from './judge.js'
import { describeSchedule, describeTask, makeSchedule, type Omittable, type Schedule } from './schedule.js'
import { markedProcesses, settleList } from './system.js'

export interface RunResult {
  seed: number
  tasks: number
  schedule: Schedule
  /** Undefined when the run process died or hung before it could report. */
  report: RunReport | undefined
  violations: Violation[]
  ms: number
  /** What the run's processes wrote to stderr and stdout (tasks print nothing; anything here is a clue). */
  output: string
}

const runOne = fileURLToPath(new URL('./run-one.ts', import.meta.url))
/** An event loop that has not turned for this long is stopped, not slow (start-up under tsx included). */
const STALL_MS = 15_000

/**
 * Plays `seed` with `tasks` tasks. shutdown() gets `shutdownBoundMs` once every
 * task has been told to stop; a run taking longer than `timeoutMs` in all is
 * killed and reported as hung.
 */
export async function soakRun(
  seed: number,
  tasks: number,
  { timeoutMs, shutdownBoundMs, without = [] }: { timeoutMs: number; shutdownBoundMs: number; without?: readonly Omittable[] },
): Promise<RunResult> {
  const schedule = makeSchedule(seed, tasks, without)
  const dir = mkdtempSync(join(tmpdir(), 'soak-'))
  const reportPath = join(dir, 'report.json')
  const marker = `SOAK_RUN=${process.pid}-${seed}-${Date.now()}`
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', 'tsx', runOne, String(seed), String(tasks), reportPath, String(shutdownBoundMs), without.join(',')], {
    // Its own process group, so a hung run is killed with every process it started.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SOAK_LOG: join(dir, 'log'), SOAK_RUN: marker.slice('SOAK_RUN='.length) },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk))
  let hung: string | undefined
  const watchdog = setInterval(() => {
    const stalled = Date.now() - lastBeat(reportPath, started)
    if (stalled > STALL_MS) hung = `its event loop stopped (no heartbeat for ${Math.round(stalled / 1000)} s)`
    else if (performance.now() - started > timeoutMs) hung = `no report after ${timeoutMs} ms`
    if (hung) killGroup(child.pid!)
  }, 500)
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  clearInterval(watchdog)
  const ms = performance.now() - started
  const violations: Violation[] = []
  const report = readReport(reportPath)
  if (report) violations.push(...report.violations)
  else if (hung) violations.push({ class: 'run-hung', task: -1, detail: `${hung}; last progress: ${lastProgress(reportPath)}` })
  else violations.push({ class: 'host-crashed', task: -1, detail: `the run process ended (${signal ?? `code ${code}`}) before reporting; last progress: ${lastProgress(reportPath)}` })
  // The run process is gone: whatever still carries its marker outlived it.
  const orphans = hung ? [] : await settleList(() => markedProcesses(marker), 3000)
  if (orphans.length > 0) violations.push({ class: 'processes-left', task: -1, detail: `outlived the run process: ${orphans.join(', ')}` })
  killGroup(child.pid!)
  for (const pid of markedProcesses(marker)) kill(pid)
  rmSync(dir, { recursive: true, force: true })
  return { seed, tasks, schedule, report, violations, ms, output }
}

/** When the run last showed its event loop alive (its start, until it first does). */
function lastBeat(reportPath: string, started: number): number {
  try {
    return statSync(`${reportPath}.beat`).mtimeMs
  } catch {
    return Date.now() - (performance.now() - started)
  }
}

function killGroup(pid: number): void {
  kill(-pid)
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

function readReport(path: string): RunReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunReport
  } catch {
    return undefined
  }
}

function lastProgress(reportPath: string): string {
  try {
    return readFileSync(`${reportPath}.progress`, 'utf8').trim().split('\n').at(-1) ?? 'none'
  } catch {
    return 'none'
  }
}

/** A failed run, told so it can be replayed: the seed, the violations with their tasks, the schedule. */
export function describeFailure(result: RunResult): string {
  const plans = result.schedule.steps.flatMap((step) => ('submit' in step ? [step.submit] : []))
  const lines = result.violations.map((v) => {
    const task = v.task >= 0 ? `#${v.task} ${describeTask(plans[v.task]!)}: ` : ''
    return `  [${v.class}] ${task}${v.detail}`
  })
  return [
    `soak seed ${result.seed} (${result.tasks} tasks) failed with ${result.violations.length} violation(s):`,
    ...lines.slice(0, 40),
    ...(lines.length > 40 ? [`  ... and ${lines.length - 40} more`] : []),
    `replay: SOAK_SEED=${result.seed} SOAK_TASKS=${result.tasks}${result.schedule.without.length ? ` SOAK_WITHOUT=${result.schedule.without.join(',')}` : ''} npm run soak`,
    ...(result.report ? [`faults: ${Object.entries(result.report.faults).map(([kind, n]) => `${kind} ${n}`).join(', ')}`] : []),
    ...(result.output.trim() ? ['output of the run:', result.output.trim().slice(-4000)] : []),
    'schedule:',
    describeSchedule(result.schedule),
  ].join('\n')
}
