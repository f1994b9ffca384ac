#!/usr/bin/env node
// `concurrent-futures bench`: which pool size, threads or processes, for a
// function on this machine. Reads the command line (args.ts), sweeps the pool
// sizes (sweep.ts), prints a table, JSON or CSV (report.ts), draws a chart
// (chart.ts), and runs other pools on the same work (compare.ts).
//
// `concurrent-futures worker`: serves a QueueExecutor's queue (worker.ts).

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from './args.js'
import { toHtml, toSvg } from './chart.js'
import { compare, compareTable } from './compare.js'
import { progressBar } from './progress.js'
import { toCsv, toJson, toTable } from './report.js'
import { sweep, TaskFailed } from './sweep.js'
import { parseWorkerArgs, WORKER_USAGE } from './worker-args.js'

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === '--version' || command === '-v') {
    console.log(version())
    return 0
  }
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    console.log(command === 'worker' ? WORKER_USAGE : command === 'bench' ? USAGE : `${USAGE}\n\n${WORKER_USAGE}`)
    return 0
  }
  if (command === 'worker') {
    const options = parseWorkerArgs(rest, process.env)
    if (isTypeScript(String(options.tasks)) && !underTsx()) return rerunUnderTsx(argv)
    // Loaded only here: bullmq and ioredis are needed by the worker command alone.
    const { runWorker } = await import('./worker.js')
    await runWorker(options)
    return 0
  }
  if (command !== 'bench') throw new UsageError(`unknown command '${command}': the commands are bench and worker (see --help)`)
  const options = parseBenchArgs(rest)
  if (isTypeScript(options.workload.module) && !underTsx()) return rerunUnderTsx(argv)
  await bench(options)
  return 0
}

function isTypeScript(module: string): boolean {
  return /\.[cm]?tsx?$/.test(new URL(module, 'file:///').pathname)
}

function version(): string {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  return `concurrent-futures ${version}`
}

async function bench(options: BenchOptions): Promise<void> {
  const cores = availableParallelism()
  const result = await sweep(options, progressBar())
  for (const warning of result.warnings) console.error(`concurrent-futures bench: warning: ${warning}`)
  const table = toTable(result, options, cores)
  if (options.json) console.log(toJson(result, options, cores))
  else if (options.csv) console.log(toCsv(result.points))
  else console.log(table)
  if (options.chart) {
    const svg = toSvg(result.points, options)
    writeFileSync(options.chart, options.chart.endsWith('.html') ? toHtml(svg, table) : svg)
    console.error(`chart written to ${options.chart}`)
  }
  if (options.compare) {
    const workers = Math.min(cores, options.workers.at(-1)!)
    console.log(`\n${compareTable(await compare(options, workers), workers, options)}`)
  }
}

function underTsx(): boolean {
  return process.execArgv.some((arg) => arg === 'tsx' || /[\\/]tsx[\\/]/.test(arg)) || Boolean((process.features as { typescript?: unknown }).typescript)
}

/** A TypeScript task module: run again under tsx, which the workers then inherit; signals pass on to the rerun. */
async function rerunUnderTsx(argv: string[]): Promise<number> {
  try {
    createRequire(`${process.cwd()}/`).resolve('tsx')
  } catch {
    throw new UsageError('a TypeScript task module needs tsx (npm install --save-dev tsx), or pass the compiled .js module')
  }
  const child = spawn(process.execPath, ['--import', 'tsx', process.argv[1]!, ...argv], { stdio: 'inherit' })
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal)
  process.on('SIGTERM', forward).on('SIGINT', forward)
  const [status] = (await once(child, 'exit')) as [number | null]
  process.off('SIGTERM', forward).off('SIGINT', forward)
  return status ?? 1
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError || error instanceof TaskFailed)) throw error
  const command = process.argv[2] ?? 'bench'
  console.error(`concurrent-futures${command === 'bench' || command === 'worker' ? ` ${command}` : ''}: ${error.message}`)
  process.exitCode = 2
}
