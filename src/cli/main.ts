#!/usr/bin/env node
// `concurrent-futures bench`: which pool size, threads or processes, for a
// function on this machine. Reads the command line (args.ts), sweeps the pool
// sizes (sweep.ts), prints a table, JSON or CSV (report.ts), draws a chart
// (chart.ts), and runs other pools on the same work (compare.ts).

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from './args.js'
import { toHtml, toSvg } from './chart.js'
import { compare, compareTable } from './compare.js'
import { progressBar } from './progress.js'
import { toCsv, toJson, toTable } from './report.js'
import { sweep, TaskFailed } from './sweep.js'

async function main(argv: string[]): Promise<number> {
  const [command = 'bench', ...rest] = argv
  if (command === '--help' || command === '-h' || rest.includes('--help')) {
    console.log(USAGE)
    return 0
  }
  if (command !== 'bench') throw new UsageError(`unknown command '${command}': the command is bench (see --help)`)
  const options = parseBenchArgs(rest)
  if (/\.[cm]?tsx?$/.test(new URL(options.workload.module).pathname) && !underTsx()) return rerunUnderTsx(argv)
  await bench(options)
  return 0
}

async function bench(options: BenchOptions): Promise<void> {
  const cores = availableParallelism()
  const points = await sweep(options, progressBar())
  const table = toTable(points, options, cores)
  if (options.json) console.log(toJson(points, options, cores))
  else if (options.csv) console.log(toCsv(points))
  else console.log(table)
  if (options.chart) {
    const svg = toSvg(points, options)
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

/** A TypeScript task module: run again under tsx, which the workers then inherit. */
function rerunUnderTsx(argv: string[]): number {
  try {
    createRequire(`${process.cwd()}/`).resolve('tsx')
  } catch {
    throw new UsageError('a TypeScript task module needs tsx (npm install --save-dev tsx), or pass the compiled .js module')
  }
  const { status } = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1]!, ...argv], { stdio: 'inherit' })
  return status ?? 1
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError || error instanceof TaskFailed)) throw error
  console.error(`concurrent-futures bench: ${error.message}`)
  process.exitCode = 2
}
