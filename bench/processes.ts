// The process pool beside raw child_process IPC and Python's ProcessPoolExecutor, 2 processes each.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ProcessPoolExecutor, wait } from '../src/index.js'
import { benchProgress } from './progress.js'
import { timed, timedInTurn } from './measure.js'
import { RawForkEcho } from './raw-fork-echo.js'
import { RelayedForkEcho } from './relayed-fork-echo.js'
import { microsEach, perSecond, row, skipped } from './report.js'
import { fib } from './tasks.js'
import { CPU_TASKS, FIB, floodRate, mapRate, ROUNDS, roundTripRound, SEQ, streamRate, tasks, WORKERS } from './workloads.js'

const N = 50_000
/** Python's fib is ~50× slower than V8's: a smaller n keeps its batch near a second. Only its speedup is compared. */
const PYTHON_FIB = 24
const LONG_FIB = 32
const LONG_TASKS = 16

interface PythonFigures { perSecond: number; roundTripUs: number; speedup: number }

async function python(): Promise<PythonFigures | string> {
  const script = fileURLToPath(new URL('../../bench/python_pool.py', import.meta.url))
  try {
    const { stdout } = await promisify(execFile)('python3', [script, ...[WORKERS, N, SEQ / 4, CPU_TASKS / 2, PYTHON_FIB].map(String)], { timeout: 120_000 })
    return JSON.parse(stdout) as PythonFigures
  } catch (error) {
    return `python3 did not run: ${(error as Error).message.split('\n')[0]}`
  }
}

export async function benchProcesses(inlineCpuMs: number): Promise<void> {
  console.error('processes: Python ProcessPoolExecutor')
  const py = await python()

  const ours = new ProcessPoolExecutor({ maxWorkers: WORKERS })
  const oursNoStacks = new ProcessPoolExecutor({ maxWorkers: WORKERS, submitStacks: false })
  const oursJson = new ProcessPoolExecutor({ maxWorkers: WORKERS, submitStacks: false, serialization: 'json' })
  const raw = new RawForkEcho(WORKERS, 'advanced')
  const rawJson = new RawForkEcho(WORKERS, 'json')
  const pools = [ours, oursNoStacks, oursJson]

  for (const ex of pools) wait(Array.from({ length: 10_000 }, (_, i) => ex.submit(tasks.noop, i)))
  await raw.flood(10_000)
  await rawJson.flood(10_000)

  console.error('processes: no-op throughput')
  const oursFlood = await floodRate(ours, N)
  if (typeof py === 'string') skipped('processes: submit, no-op tasks/s', py)
  else row('processes: submit, no-op tasks/s', oursFlood, py.perSecond, 'Python ProcessPoolExecutor', '/s', '≥ 4× Python')
  const rawFlood = perSecond(await timed(ROUNDS, () => raw.flood(N)), N)
  row('processes: submit vs the IPC floor', await floodRate(oursNoStacks, N), rawFlood, 'raw fork IPC echo, advanced', '/s', '–')
  const rawJsonFlood = perSecond(await timed(ROUNDS, () => rawJson.flood(N)), N)
  row("processes: submit, serialization 'json'", await floodRate(oursJson, N), rawJsonFlood, 'raw fork IPC echo, json', '/s', '–')
  const mapItems = await mapRate(ours, 4 * N)
  row('processes: map, chunksize 256, items/s', mapItems, rawFlood, 'raw fork IPC echo, advanced', '/s', '–')
  row('processes: stream, items/s from one generator', await streamRate(ours, 4 * N), mapItems, 'map, chunksize 256', '/s', '≥ 0.5× map')

  // Each round trip beside the same path with none of the pool's logic (the
  // relay floor), all measured in turn, so the load of the moment meets them alike.
  console.error('processes: round trips')
  const relay = new RelayedForkEcho()
  await relay.pingPong(SEQ)
  const [rawSeq, relayAwait, relayBlock, awaited, blocking] = (await timedInTurn(ROUNDS, [
    () => raw.pingPong(SEQ),
    () => relay.pingPong(SEQ),
    () => relay.blockingPingPong(SEQ),
    roundTripRound(oursNoStacks, 'await'),
    roundTripRound(oursNoStacks, 'block'),
  ])).map((ms) => microsEach(ms, SEQ)) as [number, number, number, number, number]
  row('processes: sequential await round trip', awaited, rawSeq, 'raw fork IPC ping-pong', 'µs', '≤ 1.5×')
  row('processes: blocking result() round trip', blocking, rawSeq, 'raw fork IPC ping-pong', 'µs', '≤ 1.5×')
  row('processes: the relay floor, awaited', relayAwait, rawSeq, 'raw fork IPC ping-pong', 'µs', '–')
  row('processes: sequential await vs the relay floor', awaited, relayAwait, 'bare relay thread ping-pong', 'µs', '–')
  row('processes: blocking result() vs the relay floor', blocking, relayBlock, 'bare relay, Atomics.wait', 'µs', '–')
  if (typeof py !== 'string') row('processes: blocking result() vs Python', blocking, py.roundTripUs, 'Python result()', 'µs', 'lower is better')

  console.error('processes: CPU-bound')
  const pooled = await timed(3, () => Promise.all(Array.from({ length: CPU_TASKS }, () => ours.submit(tasks.fib, FIB))))
  const speedupName = `processes: CPU speedup, ${CPU_TASKS} × fib(${FIB})`
  if (typeof py === 'string') row(speedupName, inlineCpuMs / pooled, 1, 'one core, inline', '×', '≥ 1.9')
  else row(speedupName, inlineCpuMs / pooled, py.speedup, `Python's own speedup, fib(${PYTHON_FIB})`, '×', '≥ 1.9')
  // A child gets its next task only once it is free (so that task stays
  // cancellable); each task then waits one round trip, which longer tasks hide.
  const inlineLong = await timed(2, () => { for (let i = 0; i < LONG_TASKS; i++) fib(LONG_FIB) })
  const pooledLong = await timed(2, () => Promise.all(Array.from({ length: LONG_TASKS }, () => ours.submit(tasks.fib, LONG_FIB))))
  row(`processes: CPU speedup, ${LONG_TASKS} × fib(${LONG_FIB})`, inlineLong / pooledLong, 1, 'one core, inline', '×', '≥ 1.9')

  await benchProgress(oursNoStacks, 'processes')

  await Promise.all([...pools.map((ex) => ex.shutdown()), raw.close(), rawJson.close(), relay.close()])
}
