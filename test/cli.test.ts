import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { until } from './helpers.js'

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
const fixture = fileURLToPath(new URL('./fixtures/tasks.ts', import.meta.url))
const quick = ['--workers', '1,2', '--tasks', '12', '--rounds', '3', '--warmup', '2', '--time-budget', '0']

const mark = `cli-test-${process.pid}`

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], { timeout: 60_000, env: { ...process.env, CF_CLI_TEST: mark } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

/** Every process started by this file's CLI runs (they inherit its environment), still alive. */
function leftovers(): number[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`CF_CLI_TEST=${mark}`)
    } catch {
      return false // gone meanwhile, or not ours to read
    }
  })
}

/** Every opened tag is closed, in order: enough to know the SVG parses. */
function wellFormed(xml: string): boolean {
  const stack: string[] = []
  for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue
    if (!closing) stack.push(name!)
    else if (stack.pop() !== name) return false
  }
  return stack.length === 0
}

describe('concurrent-futures bench', () => {
  it('--json: the documented schema, a point per executor and size, a recommendation each; silent stderr off a terminal', async () => {
    const { code, stdout, stderr } = await cli('bench', 'fib', '--args', '[18]', ...quick, '--json')
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    // Silent but for the busy-machine warning, which the JSON carries too.
    expect(stderr.trim().split('\n').filter(Boolean)).toEqual(report.machine.warnings.map((w: string) => `concurrent-futures bench: warning: ${w}`))
    expect(report).toMatchObject({ schema: 3, workload: { name: 'fib', exportName: 'fib', args: [18] }, tasksPerRound: 12, minRounds: 3, timeBudgetS: 0 })
    expect(report.statistics).toMatch(/order-statistic interval.*t interval/)
    expect(typeof report.machine.busy).toBe('boolean')
    expect(report.points.map((p: { executor: string; workers: number }) => `${p.executor}×${p.workers}`)).toEqual(['thread×1', 'thread×2', 'process×1', 'process×2'])
    for (const point of report.points) {
      expect(point.rounds).toBe(3) // no budget: exactly the least rounds
      expect(point.roundThroughputs).toHaveLength(3)
      expect(point.throughput.low).toBeGreaterThan(0)
      expect(point.throughput.low).toBeLessThanOrEqual(point.throughput.median)
      expect(point.throughput.median).toBeLessThanOrEqual(point.throughput.high)
      expect(point.latencyMs.p50.median).toBeLessThanOrEqual(point.latencyMs.p99.median)
      expect(point.cpuUtilisation).toBeGreaterThanOrEqual(0)
      expect(point.cpuUtilisation).toBeLessThanOrEqual(1)
      expect(point.peakRssMiB).toBeGreaterThan(0)
    }
    expect(report.points[0].speedup).toBe(1)
    expect(Object.keys(report.recommendation).sort()).toEqual(['process', 'thread'])
    for (const r of Object.values(report.recommendation) as Array<{ workers: number; equalWithinNoise: number[]; words: string }>) {
      expect(r.equalWithinNoise[0]).toBe(r.workers)
      expect(r.words).toMatch(new RegExp(`${r.workers} (is the smallest|workers? (is|are) clearly the fastest)`))
    }
  })

  it('--csv and the table; a user module in TypeScript runs too', async () => {
    const csv = await cli('bench', `${fixture}#add`, '--args', '[1,2]', ...quick, '--executor', 'thread', '--csv')
    expect(csv.code).toBe(0)
    const lines = csv.stdout.trim().split('\n')
    expect(lines[0]).toBe('executor,workers,rounds,throughput,throughput_low,throughput_high,speedup,efficiency,p50_ms,p50_ms_low,p50_ms_high,p95_ms,p95_ms_low,p95_ms_high,p99_ms,p99_ms_low,p99_ms_high,loop_delay_p99_ms,cpu_utilisation,peak_rss_mib,autoscale')
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['thread,1', 'thread,2'])
    const table = await cli('bench', 'sleep', '--args', '[5]', ...quick, '--executor', 'process')
    expect(table.stdout).toMatch(/^executor\s+workers\s+rounds\s+tasks\/s/m)
    expect(table.stdout).toMatch(/^process\s+1\s+3\s+\d+ ± \d+ /m)
    expect(table.stdout).toMatch(/recommended process pool: maxWorkers [12] \(\d+ ± \d+ tasks\/s\): /)
  })

  it('--chart draws an SVG that parses, with one series per executor', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cf-')), 'chart.svg')
    const { code } = await cli('bench', 'fib', '--args', '[15]', ...quick, '--chart', out)
    expect(code).toBe(0)
    const svg = readFileSync(out, 'utf8')
    expect(svg.startsWith('<svg')).toBe(true)
    expect(wellFormed(svg)).toBe(true)
    const series = [...svg.matchAll(/<polyline class="series" data-executor="(\w+)"/g)].map((m) => m[1])
    expect(series.sort()).toEqual(['process', 'process', 'thread', 'thread']) // one line per executor in each of the two panels
    expect(svg.match(/class="interval"/g)).toHaveLength(8) // an error bar per point and panel
    expect(svg).toContain('>threads</text>')
    expect(svg).toContain('>processes</text>')
    expect(svg).not.toContain('processs')
    expect(svg).toMatch(/recommended: the smallest pool/)
    const ticks = [...svg.matchAll(/<text class="tick"[^>]*>([^<]+)</g)].map((m) => m[1])
    expect(ticks.filter((t) => t === '0')).toHaveLength(2) // each panel's axis starts at 0
  })

  it('--workers 1,2,auto: an autoscaled pool measured against the fixed sizes in the same passes, never recommended', async () => {
    const { code, stdout } = await cli('bench', 'sleep', '--args', '[5]', '--executor', 'thread', '--workers', '1,2,auto', '--tasks', '12', '--rounds', '3', '--time-budget', '0', '--json')
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    const auto = report.points.filter((p: { autoscale: boolean }) => p.autoscale)
    expect(auto).toHaveLength(1)
    expect(auto[0].workers).toBeGreaterThanOrEqual(1)
    expect(report.recommendation.thread.equalWithinNoise.every((w: number) => w === 1 || w === 2)).toBe(true)
    expect(report.autoscale.thread.vsBest.ratio.mean).toBeGreaterThan(0)
    expect(report.autoscale.thread.vsCores === undefined).toBe(availableParallelism() > 2) // compared with a fixed pool of the cores when that size was swept
  }, 30_000)

  it('--chart into a folder that does not exist fails before measuring: one line, exit 2', async () => {
    const started = Date.now()
    const { code, stdout, stderr } = await cli('bench', '--chart', '/no/such/folder/chart.svg')
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe('concurrent-futures bench: --chart /no/such/folder/chart.svg: the folder /no/such/folder does not exist or is not writable')
    expect(Date.now() - started).toBeLessThan(10_000) // no sweep ran (the default one takes 10 s and more)
  })

  it('--version, help for bench alone, help when bare', async () => {
    const version = await cli('--version')
    expect(version.stdout.trim()).toMatch(/^concurrent-futures \d+\.\d+\.\d+/)
    const benchHelp = await cli('bench', '--help')
    expect(benchHelp.code).toBe(0)
    expect(benchHelp.stdout).toMatch(/--time-budget/)
    expect(benchHelp.stdout).not.toMatch(/--queue/)
    const bare = await cli()
    expect(bare.code).toBe(0)
    expect(bare.stdout).toMatch(/usage: concurrent-futures bench/)
    expect(bare.stdout).toMatch(/usage: concurrent-futures worker/)
  })

  it.each([
    [['bench', 'nope.js#fn'], /task module .*nope\.js does not exist/],
    [['bench', `${fixture}#notAFunction`, ...quick], /export 'notAFunction' of .* is a number, not a function/],
    [['bench', `${fixture}#missing`, ...quick], /has no export 'missing'/],
    [['bench', '--workers', '0'], /--workers takes whole numbers >= 1, got 0/],
    [['bench', '--rounds', '1'], /--rounds takes whole numbers >= 2, got 1/],
    [['bench', '--args', '{nope'], /--args is not JSON/],
    [['bench', 'quicksort'], /unknown workload 'quicksort': use one of fib, hash, gzip, fs, sleep/],
    [['bench', '--executor', 'fiber'], /unknown executor 'fiber'/],
    [['bench', '--frobnicate'], /unknown option --frobnicate/],
    [['bench', '--time-budget', 'soon'], /--time-budget takes seconds >= 0, got soon/],
    [['serve'], /unknown command 'serve'/],
  ])('%j: one line, exit code 2, no stack, no leftover children', async (args, message) => {
    const { code, stdout, stderr } = await cli(...args)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(message)
    expect(stderr).not.toMatch(/\n\s+at /)
    await until(() => leftovers().length === 0)
  })
})
