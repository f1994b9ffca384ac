// Runs a workload on each pool size and executor, and measures each point.

import { cpus } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { readdirSync, readFileSync } from 'node:fs'
import { taskRef } from '../executors/task.js'
import { ProcessPoolExecutor } from '../executors/process-pool.js'
import { ThreadPoolExecutor } from '../executors/thread-pool.js'
import type { Executor } from '../executors/executor.js'
import type { Future } from '../concurrent/future.js'
import type { BenchOptions, ExecutorKind } from './args.js'
import { timed } from './timing.js'

export interface Point {
  executor: ExecutorKind
  workers: number
  /** Tasks per second: tasks per round ÷ the median round time. */
  throughput: number
  /** Throughput ÷ the same executor's throughput with 1 worker (or the smallest size swept). */
  speedup: number
  /** Speedup ÷ workers (relative to the smallest size). */
  efficiency: number
  /** Milliseconds from submit() to the result, over every measured task. */
  latencyMs: { p50: number; p95: number; p99: number }
  /** The main thread's event-loop delay p99 while the rounds ran, ms. */
  loopDelayP99Ms: number
  /** Share of the machine's CPU time busy during the rounds, 0..1. */
  cpuUtilisation: number
  /** Peak resident memory of this process and its pool's children, MiB. */
  peakRssMiB: number
}

/** A task failed: the message, for one line on stderr. */
export class TaskFailed extends Error {}

export type Progress = (done: number, total: number, label: string) => void

export async function sweep(options: BenchOptions, progress: Progress): Promise<Point[]> {
  const points: Point[] = []
  const total = options.executors.length * options.workers.length
  for (const executor of options.executors) {
    let base: { throughput: number; workers: number } | undefined
    for (const workers of options.workers) {
      progress(points.length, total, `${executor} × ${workers}`)
      const point = await measure(executor, workers, options)
      base ??= { throughput: point.throughput, workers }
      point.speedup = point.throughput / base.throughput
      point.efficiency = point.speedup / (workers / base.workers)
      points.push(point)
    }
  }
  progress(total, total, 'done')
  return points
}

export function makeExecutor(kind: ExecutorKind, workers: number): Executor {
  return kind === 'thread'
    ? new ThreadPoolExecutor({ maxWorkers: workers, submitStacks: false })
    : new ProcessPoolExecutor({ maxWorkers: workers, submitStacks: false })
}

async function measure(kind: ExecutorKind, workers: number, options: BenchOptions): Promise<Point> {
  const { workload } = options
  const task = taskRef<(...args: unknown[]) => unknown>(workload.module, workload.exportName)
  await using executor = makeExecutor(kind, workers)
  const run = async (n: number, latencies?: number[]): Promise<void> => {
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
  await run(options.warmup >= 0 ? options.warmup : 2 * workers)
  const latencies: number[] = []
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const memory = peakMemory()
  const cpuBefore = cpuTimes()
  delay.enable()
  const roundMs = await timed(options.rounds, () => run(options.tasks, latencies))
  delay.disable()
  const cpuAfter = cpuTimes()
  latencies.sort((a, b) => a - b)
  return {
    executor: kind,
    workers,
    throughput: options.tasks / (roundMs / 1000),
    speedup: 1,
    efficiency: 1,
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99) },
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    cpuUtilisation: 1 - (cpuAfter.idle - cpuBefore.idle) / Math.max(1, cpuAfter.total - cpuBefore.total),
    peakRssMiB: memory.stop() / 2 ** 20,
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0
  let total = 0
  for (const { times } of cpus()) {
    idle += times.idle
    total += times.idle + times.user + times.nice + times.sys + times.irq
  }
  return { idle, total }
}

/** Samples this process's RSS plus its children's (Linux /proc) every 100 ms, lightly, since it runs on the measured loop; stop() gives the peak in bytes. */
function peakMemory(): { stop: () => number } {
  let peak = 0
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss() + childrenRss())
  }
  sample()
  const timer = setInterval(sample, 100)
  return {
    stop: () => {
      clearInterval(timer)
      sample()
      return peak
    },
  }
}

function childrenRss(): number {
  try {
    let bytes = 0
    for (const thread of readdirSync('/proc/self/task')) {
      for (const pid of readFileSync(`/proc/self/task/${thread}/children`, 'utf8').split(' ').filter(Boolean)) {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
        if (match) bytes += Number(match[1]) * 1024
      }
    }
    return bytes
  } catch {
    return 0 // not Linux, or a child just exited
  }
}
