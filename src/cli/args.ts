// The command line of `concurrent-futures bench`, checked before anything
// starts: a mistake is one line and exit code 2.

import { accessSync, constants, existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BUILT_IN, type Workload } from './workloads.js'

export type ExecutorKind = 'thread' | 'process'

export interface BenchOptions {
  workload: Workload
  workers: number[]
  /** --workers includes auto: an autoscaled pool too, measured against the fixed sizes. */
  autoscale: boolean
  executors: ExecutorKind[]
  tasks: number
  warmup: number
  /** The least rounds per point. */
  rounds: number
  /** Seconds of measuring after which no more rounds start (beyond --rounds each). */
  timeBudget: number
  json: boolean
  csv: boolean
  chart: string | undefined
  compare: boolean
  python: boolean
}

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `usage: concurrent-futures bench [task] [options]
       concurrent-futures --version

  task                 a built-in workload (${Object.keys(BUILT_IN).join(', ')}; default fib)
                       or path/to/module.js#exportName (TypeScript modules under tsx)
  --args '<json>'      the task's arguments: a JSON array, or one JSON value
  --workers 1,2,4      pool sizes to sweep (default 1 to 2x the cores); add auto (1,2,4,auto, or
                       auto alone for the default sizes) to measure an autoscaled pool against them
  --executor thread,process
  --tasks N            tasks per round (default: the workload's)
  --warmup N           tasks run first on each pool, unmeasured (default: 2 per worker)
  --rounds N           the least measured rounds per point (default 5, at least 2); rounds are interleaved
                       across pool sizes, and each figure is their median ± a 95 % interval
  --time-budget S      seconds of measuring: while a throughput interval is wider than ±2 % or the
                       recommendation is still open, more rounds until they are spent (default 10)
  --json | --csv       machine-readable output instead of the table
  --chart out.svg      draw throughput and p99 latency against pool size (.svg or .html)
  --compare            the same workload through piscina, poolifier, tinypool, workerpool and inline
  --python             with --compare and fib: Python's concurrent.futures too`

/** The command line as a queue: next() takes an argument, value(flag) the one a flag needs. */
export function commandLine(argv: string[]): { more(): boolean; next(): string; value(flag: string): string } {
  const rest = [...argv]
  return {
    more: () => rest.length > 0,
    next: () => rest.shift()!,
    value(flag) {
      const next = rest.shift()
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      return next
    },
  }
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const cores = availableParallelism()
  const options: Omit<BenchOptions, 'workload'> & { workload?: Workload } = {
    workers: Array.from({ length: 2 * cores }, (_, i) => i + 1),
    autoscale: false,
    executors: ['thread', 'process'],
    tasks: 0,
    warmup: -1,
    rounds: 5,
    timeBudget: 10,
    json: false,
    csv: false,
    chart: undefined,
    compare: false,
    python: false,
  }
  let taskArg: string | undefined
  let args: unknown[] | undefined
  const { more, next, value } = commandLine(argv)
  while (more()) {
    const arg = next()
    switch (arg) {
      case '--args': args = parseJsonArgs(value(arg)); break
      case '--workers': {
        const parts = value(arg).split(',').map((part) => part.trim())
        options.autoscale = parts.includes('auto')
        const sizes = parts.filter((part) => part !== 'auto')
        if (sizes.length > 0) options.workers = parseCounts(sizes.join(','), arg)
        break
      }
      case '--executor': options.executors = parseExecutors(value(arg)); break
      case '--tasks': options.tasks = parseCounts(value(arg), arg, true)[0]!; break
      case '--warmup': options.warmup = parseCount(value(arg), arg, 0); break
      case '--rounds': options.rounds = parseCount(value(arg), arg, 2); break // one round has no spread to show
      case '--time-budget': options.timeBudget = parseSeconds(value(arg), arg); break
      case '--json': options.json = true; break
      case '--csv': options.csv = true; break
      case '--chart': options.chart = parseChart(value(arg)); break
      case '--compare': options.compare = true; break
      case '--python': options.python = true; break
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg} (see --help)`)
        if (taskArg !== undefined) throw new UsageError(`one task at a time: got ${taskArg} and ${arg}`)
        taskArg = arg
    }
  }
  if (options.json && options.csv) throw new UsageError('choose one of --json and --csv')
  if (options.python && !options.compare) throw new UsageError('--python adds a row to --compare: pass both')
  const workload = parseTask(taskArg ?? 'fib', args)
  if (options.python && workload.name !== 'fib') throw new UsageError('--python runs the built-in fib only')
  return { ...options, workload, tasks: options.tasks || workload.tasks }
}

function parseTask(task: string, args: unknown[] | undefined): Workload {
  if (Object.hasOwn(BUILT_IN, task)) return { ...BUILT_IN[task]!, args: args ?? BUILT_IN[task]!.args }
  const hash = task.lastIndexOf('#')
  if (hash <= 0 || hash === task.length - 1) {
    throw new UsageError(`unknown workload '${task}': use one of ${Object.keys(BUILT_IN).join(', ')}, or path/to/module.js#exportName`)
  }
  const path = resolve(task.slice(0, hash))
  if (!existsSync(path)) throw new UsageError(`task module ${path} does not exist`)
  return { name: task, module: pathToFileURL(path).href, exportName: task.slice(hash + 1), args: args ?? [], tasks: 200 }
}

function parseJsonArgs(text: string): unknown[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new UsageError(`--args is not JSON: ${text} (for example --args '[30]' or --args '"text"')`)
  }
  return Array.isArray(parsed) ? parsed : [parsed]
}

export function parseCount(text: string, flag: string, min: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} takes whole numbers >= ${min}, got ${text}`)
  return n
}

function parseSeconds(text: string, flag: string): number {
  const s = Number(text)
  if (!Number.isFinite(s) || s < 0) throw new UsageError(`${flag} takes seconds >= 0, got ${text}`)
  return s
}

function parseCounts(text: string, flag: string, single = false): number[] {
  const counts = text.split(',').map((part) => parseCount(part.trim(), flag, 1))
  if (single && counts.length > 1) throw new UsageError(`${flag} takes one number, got ${text}`)
  return [...new Set(counts)].sort((a, b) => a - b)
}

function parseExecutors(text: string): ExecutorKind[] {
  const kinds = text.split(',').map((part) => part.trim())
  for (const kind of kinds) if (kind !== 'thread' && kind !== 'process') throw new UsageError(`unknown executor '${kind}': use thread, process or thread,process`)
  return [...new Set(kinds)] as ExecutorKind[]
}

/** Checked before measuring, so a bad path does not cost the whole sweep. */
function parseChart(path: string): string {
  if (!/\.(svg|html)$/.test(path)) throw new UsageError(`--chart writes .svg or .html, got ${path}`)
  const folder = dirname(resolve(path))
  try {
    accessSync(folder, constants.W_OK)
  } catch {
    throw new UsageError(`--chart ${path}: the folder ${folder} does not exist or is not writable`)
  }
  return path
}
