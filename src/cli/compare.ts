// --compare: the same workload, in the same run, through other Node pools,
// inline on the main thread, and (--python, fib only) Python's executors.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { BenchOptions } from './args.js'
import { makeExecutor } from './sweep.js'
import { timed } from './timing.js'

export interface CompareRow { name: string; throughput: number | undefined; note?: string }

type Runner = { run: (n: number) => Promise<unknown>; close: () => Promise<unknown> }
type Start = [name: string, start: () => Promise<Runner>]

const peerTask = new URL('../../workers/peer-task.js', import.meta.url).href

export async function compare(options: BenchOptions, workers: number): Promise<CompareRow[]> {
  const { module, exportName, args } = options.workload
  const task = { module, exportName, args }
  const batch = (call: () => PromiseLike<unknown>) => (n: number): Promise<unknown> => Promise.all(Array.from({ length: n }, call))
  const peers: Start[] = [
    ...options.executors.map((kind): Start => [`concurrent-futures ${kind} pool`, async () => {
      const { taskRef } = await import('../executors/task.js')
      const ref = taskRef<(...a: unknown[]) => unknown>(module, exportName)
      const ex = makeExecutor(kind, workers)
      return { run: batch(() => ex.submit(ref, ...args)), close: () => ex.shutdown() }
    }]),
    ['piscina', async () => {
      const { Piscina } = await import('piscina')
      const pool = new Piscina({ filename: peerTask, minThreads: workers, maxThreads: workers })
      return { run: batch(() => pool.run(task)), close: () => pool.close() }
    }],
    ['poolifier', async () => {
      const { FixedThreadPool } = await import('poolifier')
      const pool = new FixedThreadPool(workers, fileURLToPath(new URL('../../workers/peer-poolifier.js', import.meta.url)))
      return { run: batch(() => pool.execute(task)), close: () => pool.destroy() }
    }],
    ['tinypool', async () => {
      const { Tinypool } = await import('tinypool')
      const pool = new Tinypool({ filename: peerTask, minThreads: workers, maxThreads: workers })
      return { run: batch(() => pool.run(task)), close: () => pool.destroy() }
    }],
    ['workerpool', async () => {
      const workerpool = (await import('workerpool')).default
      const pool = workerpool.pool(fileURLToPath(new URL('../../workers/peer-workerpool.js', import.meta.url)), { maxWorkers: workers, workerType: 'thread' })
      return { run: batch(() => pool.exec('run', [task])), close: async () => { await pool.terminate() } }
    }],
    ['inline (main thread)', async () => {
      const fn = ((await import(module)) as Record<string, (...a: unknown[]) => unknown>)[exportName]!
      return { run: async (n) => { for (let i = 0; i < n; i++) await fn(...args) }, close: async () => {} }
    }],
  ]
  const rows: CompareRow[] = []
  for (const [name, start] of peers) {
    let runner: Runner
    try {
      runner = await start()
    } catch (error) {
      rows.push({ name, throughput: undefined, note: notAvailable(name, error) })
      continue
    }
    try {
      await runner.run(options.warmup >= 0 ? options.warmup : 2 * workers)
      const ms = await timed(options.rounds, () => runner.run(options.tasks))
      rows.push({ name, throughput: options.tasks / (ms / 1000) })
    } finally {
      await runner.close()
    }
  }
  if (options.python) rows.push(...(await python(workers, options)))
  return rows
}

/** A peer pool that is not installed says how to install it; anything else, its first line. */
function notAvailable(name: string, error: unknown): string {
  const { code } = error as { code?: unknown }
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${name}'`)) return `not installed: npm install --save-dev ${name}`
  return `not available: ${(error as Error).message.split('\n')[0]}`
}

const PYTHON = `
import json, statistics, sys, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
if __name__ == '__main__':
    workers, n, tasks, rounds = (int(a) for a in sys.argv[1:5])
    out = {}
    for name, cls in (('threads', ThreadPoolExecutor), ('processes', ProcessPoolExecutor)):
        with cls(max_workers=workers) as ex:
            wait([ex.submit(fib, n) for _ in range(2 * workers)])
            times = []
            for _ in range(rounds):
                start = time.perf_counter(); wait([ex.submit(fib, n) for _ in range(tasks)]); times.append(time.perf_counter() - start)
            out[name] = tasks / statistics.median(times)
    print(json.dumps(out))
`

async function python(workers: number, options: BenchOptions): Promise<CompareRow[]> {
  const [n] = options.workload.args as [number]
  try {
    const { stdout } = await promisify(execFile)('python3', ['-c', PYTHON, String(workers), String(n), String(options.tasks), String(options.rounds)], { timeout: 300_000 })
    const figures = JSON.parse(stdout) as { threads: number; processes: number }
    return [
      { name: 'Python ThreadPoolExecutor', throughput: figures.threads },
      { name: 'Python ProcessPoolExecutor', throughput: figures.processes },
    ]
  } catch (error) {
    return [{ name: 'Python', throughput: undefined, note: `python3 did not run: ${(error as Error).message.split('\n')[0]}` }]
  }
}

export function compareTable(rows: CompareRow[], workers: number, options: BenchOptions): string {
  const ours = rows.find((r) => r.name.startsWith('concurrent-futures'))?.throughput
  const width = Math.max(...rows.map((r) => r.name.length))
  const lines = [`--compare: ${options.workload.name}, ${workers} workers each, ${options.tasks} tasks per round`, '']
  for (const row of rows) {
    if (row.throughput === undefined) lines.push(`${row.name.padEnd(width)}  ${row.note ?? ''}`)
    else lines.push(`${row.name.padEnd(width)}  ${row.throughput.toFixed(0).padStart(9)} tasks/s  ${ours ? `ours ÷ it: ${(ours / row.throughput).toFixed(2)}×` : ''}`)
  }
  return lines.join('\n')
}
