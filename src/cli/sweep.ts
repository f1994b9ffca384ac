// Runs a workload on each pool size and executor, and measures each point.
//
// All of one executor's pools start and warm up first; then the rounds are
// interleaved across the pool sizes (each pass runs one round of every size,
// starting one size later than the pass before), so a machine that slows down
// midway slows every size alike, not the last ones, and round k of every size
// can be compared with each other (stats.ts). Every point gets at least
// --rounds rounds; after that, passes go on while a point's throughput interval
// is wider than ±TARGET of its median or more rounds could still change the
// recommendation, until the executor's share of the time budget is spent.
// The budget counts measuring only: starting and warming pools is not charged
// to it, so processes, which start slower, get as many seconds as threads.

import { monitorEventLoopDelay } from 'node:perf_hooks'
import { availableParallelism } from 'node:os'
import { taskRef } from '../executors/task.js'
import { ProcessPoolExecutor } from '../executors/process-pool.js'
import { ThreadPoolExecutor } from '../executors/thread-pool.js'
import type { Executor } from '../executors/executor.js'
import type { Future } from '../concurrent/future.js'
import type { BenchOptions, ExecutorKind } from './args.js'
import { addCpu, busyWarnings, cpuDelta, cpuSample, NO_CPU, treeRss, type CpuSample } from './machine.js'
import { estimate, median, relativeHalfWidth, verdict, type Estimate } from './stats.js'

export interface Point {
  executor: ExecutorKind
  /** The pool size; for an autoscaled pool, the size it had chosen when the rounds ended. */
  workers: number
  /** An autoscaled pool (--workers auto): not a size to recommend, a comparison. */
  autoscale: boolean
  /** Rounds measured (at least --rounds; more while the figures were unsettled and the budget lasted). */
  rounds: number
  /** Tasks per second: the median over rounds of tasks per round ÷ round time, with its 95 % interval. */
  throughput: Estimate
  /** Each round's tasks per second, in the order measured (round k of every size of the executor ran in pass k). */
  roundThroughputs: number[]
  /** Median throughput ÷ the same executor's at the smallest size swept. */
  speedup: number
  /** Speedup ÷ workers (relative to the smallest size). */
  efficiency: number
  /** Milliseconds from submit() to the result: each round's percentile, then their median and interval. */
  latencyMs: { p50: Estimate; p95: Estimate; p99: Estimate }
  /** The main thread's event-loop delay p99 while the rounds ran (median over rounds), ms. */
  loopDelayP99Ms: number
  /** CPU time of this process and its pool's children ÷ (wall time × cores) over the rounds, 0..1. */
  cpuUtilisation: number
  /** Resident memory of the bench before any pool plus what this pool added while it started and warmed up, MiB. */
  peakRssMiB: number
}

export interface SweepResult {
  points: Point[]
  /** What the machine did during all the rounds (machine.ts). */
  cpu: CpuSample
  /** Why the figures may be noisy: the machine was busy (empty when it was quiet). */
  warnings: string[]
}

/** A task failed: the message, for one line on stderr. */
export class TaskFailed extends Error {}

/** Measuring the `label` point; `fraction` of the time budget is spent. */
export type Progress = (fraction: number, label: string) => void

/** Narrow enough: the throughput interval's half-width is at most this share of the median. */
export const TARGET = 0.02
const MAX_ROUNDS = 60

interface Slot {
  kind: ExecutorKind
  workers: number
  autoscale: boolean
  executor: ThreadPoolExecutor | ProcessPoolExecutor
  rssMiB: number
  throughputs: number[]
  p50: number[]
  p95: number[]
  p99: number[]
  delays: number[]
  cpu: CpuSample
  wallMs: number
}

export async function sweep(options: BenchOptions, progress: Progress): Promise<SweepResult> {
  const points: Point[] = []
  let cpu = NO_CPU
  const budgetMs = options.timeBudget * 1000
  let spentMs = 0
  const spent = (since: number) => (spentMs + performance.now() - since) / budgetMs
  const baseRss = treeRss()
  for (const [i, kind] of options.executors.entries()) {
    const slots: Slot[] = []
    try {
      for (const workers of options.workers) {
        progress(spentMs / budgetMs, `${kind} × ${workers}: starting`)
        slots.push(await startSlot(kind, workers, options, baseRss))
      }
      if (options.autoscale) {
        progress(spentMs / budgetMs, `${kind} × auto: settling`)
        slots.push(await startSlot(kind, 'auto', options, baseRss))
      }
      const start = performance.now()
      const deadline = start + (budgetMs - spentMs) / (options.executors.length - i)
      for (let pass = 0; pass < Math.max(options.rounds, MAX_ROUNDS); pass++) {
        if (pass >= options.rounds && (performance.now() > deadline || settled(slots))) break
        for (let j = 0; j < slots.length; j++) {
          const slot = slots[(j + pass) % slots.length]!
          progress(spent(start), `${kind} × ${slot.autoscale ? 'auto' : slot.workers}: round ${pass + 1}`)
          await round(slot, options)
        }
      }
      spentMs += performance.now() - start
    } finally {
      await Promise.all(slots.map((s) => s.executor.shutdown()))
    }
    const base = slots[0]!
    for (const slot of slots) {
      points.push(toPoint(slot, median(base.throughputs), base.workers))
      cpu = addCpu(cpu, slot.cpu)
    }
  }
  progress(1, 'done')
  return { points, cpu, warnings: busyWarnings(cpu) }
}

/** Every point's interval is narrow, and more rounds cannot change which size is recommended. */
function settled(slots: Slot[]): boolean {
  return slots.every((s) => relativeHalfWidth(estimate(s.throughputs)) <= TARGET) && verdict(slots.filter((s) => !s.autoscale).map((s) => s.throughputs)).settled
}

/** A fixed size, or 'auto': autoscale up to the pool's default ceiling. */
export function makeExecutor(kind: ExecutorKind, workers: number | 'auto'): ThreadPoolExecutor | ProcessPoolExecutor {
  const size = workers === 'auto' ? { autoscale: true } : { maxWorkers: workers }
  return kind === 'thread'
    ? new ThreadPoolExecutor({ ...size, submitStacks: false })
    : new ProcessPoolExecutor({ ...size, submitStacks: false })
}

/** How long an autoscaled pool runs the workload before its rounds: time to find its size. */
const AUTOSCALE_SETTLE_MS = 6000

async function startSlot(kind: ExecutorKind, workers: number | 'auto', options: BenchOptions, baseRss: number): Promise<Slot> {
  const before = treeRss()
  let peak = before
  const timer = setInterval(() => void (peak = Math.max(peak, treeRss())), 50)
  const executor = makeExecutor(kind, workers)
  try {
    if (workers === 'auto') await keepBusy(executor, kind, options, AUTOSCALE_SETTLE_MS)
    else await run(executor, kind, options.warmup >= 0 ? options.warmup : 2 * workers, options)
  } catch (error) {
    await executor.shutdown()
    throw error
  } finally {
    clearInterval(timer)
  }
  peak = Math.max(peak, treeRss())
  return {
    kind, workers: workers === 'auto' ? 0 : workers, autoscale: workers === 'auto', executor, rssMiB: (baseRss + peak - before) / 2 ** 20,
    throughputs: [], p50: [], p95: [], p99: [], delays: [], cpu: NO_CPU, wallMs: 0,
  }
}

async function round(slot: Slot, options: BenchOptions): Promise<void> {
  const latencies: number[] = []
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const cpuBefore = cpuSample()
  const start = performance.now()
  await run(slot.executor, slot.kind, options.tasks, options, latencies)
  const ms = performance.now() - start
  slot.cpu = addCpu(slot.cpu, cpuDelta(cpuBefore, cpuSample()))
  delay.disable()
  slot.wallMs += ms
  if (slot.autoscale) slot.workers = slot.executor.workerCount
  slot.throughputs.push(options.tasks / (ms / 1000))
  latencies.sort((a, b) => a - b)
  slot.p50.push(percentile(latencies, 0.5))
  slot.p95.push(percentile(latencies, 0.95))
  slot.p99.push(percentile(latencies, 0.99))
  slot.delays.push(delay.percentile(99) / 1e6)
}

async function run(executor: Executor, kind: ExecutorKind, n: number, options: BenchOptions, latencies?: number[]): Promise<void> {
  const { workload } = options
  const task = taskRef<(...args: unknown[]) => unknown>(workload.module, workload.exportName)
  const futures: Array<Future<unknown>> = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    const future = executor.submit(task, ...workload.args)
    if (latencies) future.addDoneCallback(() => latencies.push(performance.now() - start))
    futures.push(future)
  }
  try {
    await Promise.all(futures)
  } catch (error) {
    throw new TaskFailed(`${workload.name} failed in a ${kind} worker: ${(error as Error).message ?? String(error)}`)
  }
}

/** Keeps more tasks in the pool than it may have workers for `ms`: a steady load to size itself on, without the gaps between rounds. */
async function keepBusy(executor: ThreadPoolExecutor | ProcessPoolExecutor, kind: ExecutorKind, options: BenchOptions, ms: number): Promise<void> {
  const until = performance.now() + ms
  const live = new Set<Promise<void>>()
  while (performance.now() < until) {
    while (live.size < 2 * executor.maxWorkers) {
      const one = run(executor, kind, 1, options).finally(() => live.delete(one))
      live.add(one)
    }
    await Promise.race(live)
  }
  await Promise.all(live)
}

function toPoint(slot: Slot, baseThroughput: number, baseWorkers: number): Point {
  const throughput = estimate(slot.throughputs)
  const speedup = throughput.median / baseThroughput
  return {
    executor: slot.kind,
    workers: slot.workers,
    autoscale: slot.autoscale,
    rounds: slot.throughputs.length,
    throughput,
    roundThroughputs: slot.throughputs.map((t) => +t.toFixed(2)),
    speedup,
    efficiency: speedup / (slot.workers / baseWorkers),
    latencyMs: { p50: estimate(slot.p50), p95: estimate(slot.p95), p99: estimate(slot.p99) },
    loopDelayP99Ms: median(slot.delays),
    cpuUtilisation: Math.min(1, slot.cpu.own / Math.max(1, slot.wallMs * availableParallelism())),
    peakRssMiB: slot.rssMiB,
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
}
