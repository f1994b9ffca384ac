// One soak run, in a process of its own (started by harness.ts): it plays the
// schedule of its seed against a real pool, waits for shutdown, and writes
// what it saw as JSON. A run that hangs or crashes this process cannot take
// the test runner with it, and every process it started dies with it.
//
//   node --import tsx test/soak/run-one.ts <seed> <tasks> <report.json> <shutdown bound ms> <omitted faults, comma-separated>
//
// Progress goes line by line to <report.json>.progress, synchronously, so a
// run whose event loop stops still says where it was; <report.json>.beat is
// touched while the event loop runs.

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { CancelledError, Future, fromModule, ProcessPoolExecutor, remote, ThreadPoolExecutor, type Remote, type SubmitOptions, type Task } from 'concurrent-futures'
import { LoopFuture, runInExecutorWith } from 'concurrent-futures/loop'
import { judge, type Outcome, type RunFacts, type RunReport, type Seen, type TaskRecord } from './judge.js'
import { makeSchedule, type Omittable, type Schedule, type TaskPlan } from './schedule.js'
import { activeResources, alive, extraResources, poolChildren, settleList } from './system.js'

const [seedArg, tasksArg, reportPath, boundArg, withoutArg = ''] = process.argv.slice(2)
/** How long shutdown() may take once every task has been told to stop: far more than it needs. */
const SHUTDOWN_BOUND_MS = Number(boundArg)
/** The most a worker may take to start, counted into that bound for the work a recycling pool has left. */
const WORKER_START_MS = 500
const seed = Number(seedArg)
const schedule = makeSchedule(seed, Number(tasksArg), withoutArg.split(',').filter(Boolean) as Omittable[])
const progress = (line: string): void => appendFileSync(`${reportPath}.progress`, `${line}\n`)
const hostErrors: string[] = []
process.on('uncaughtException', (error) => void hostErrors.push(`uncaught exception: ${describe(error)}`))
process.on('unhandledRejection', (reason) => void hostErrors.push(`unhandled rejection: ${describe(reason)}`))

const tasks = fromModule<typeof import('./tasks.js')>(new URL('./tasks.ts', import.meta.url))

interface Live {
  record: TaskRecord
  future?: Future<unknown> | LoopFuture<unknown>
  controller?: AbortController
  awaited?: { ok: boolean; value: unknown }
  blocks: Array<{ ok: boolean; value: unknown }>
}

// A heartbeat the harness watches: if it stops, this process's event loop has stopped (a spin, or a block).
const beat = setInterval(() => writeFileSync(`${reportPath}.beat`, ''), 250).unref()
const baseline = activeResources()
const ex = makePool(schedule)
const live: Live[] = []
const killed = new Set<string>()
const faults: Record<string, number> = {}
const count = (kind: string): void => void (faults[kind] = (faults[kind] ?? 0) + 1)
let shutdown: Promise<void> | undefined
/** The remote() object the flood calls, or why it could not be made. */
const tally: { object?: Remote<InstanceType<typeof import('./tasks.js').Tally>>; error?: string } = {}
let shutdownCancelled = false

if (schedule.pool.recycleAfter) count('recycling pool')
if (schedule.pool.maxQueued) count('maxQueued pool')
for (const [i, step] of schedule.steps.entries()) {
  if (step.wait) await new Promise((resolve) => setTimeout(resolve, step.wait))
  progress(`step ${i}`)
  if ('submit' in step) submit(step.submit, step.via)
  else if ('cancel' in step) {
    count('cancel storm')
    for (const index of step.cancel) {
      const entry = live[index]!
      if (entry.future?.cancel()) entry.record.cancelReturnedTrue = true
    }
  } else if ('abort' in step) abort(live[step.abort]!)
  else if ('kill' in step) {
    const children = poolChildren().filter(alive)
    const pid = children[step.kill % Math.max(1, children.length)]
    if (pid !== undefined) {
      process.kill(pid, 'SIGKILL')
      killed.add(`${pid}:0`)
      count('SIGKILL child')
    }
  } else if ('block' in step) block(live[step.block]!, step.ms)
  else if ('remote' in step) await makeRemote()
  else startShutdown(step.shutdown.cancelFutures, 'shutdown mid-run')
}
progress('schedule done')
// Freeing the object is a call like the others; a failure to free it is the pool's to report, through the calls.
if (tally.object) await bounded(tally.object[Symbol.asyncDispose](), 5_000).catch(() => {})
for (const entry of live) if (entry.controller && !entry.record.aborted) abort(entry)
if (!shutdown) startShutdown(schedule.finalShutdown.cancelFutures, 'shutdown at end')
const started = performance.now()
// A recycling pool starts a worker every few tasks, and a worker under tsx takes up to half a second to
// boot on a busy machine: shutdown() runs the work still queued, so its bound grows with that work.
const queued = live.filter((entry) => entry.future && !entry.future.done()).length
const shutdownBoundMs = SHUTDOWN_BOUND_MS + (schedule.pool.recycleAfter ? Math.ceil(queued / schedule.pool.recycleAfter) * WORKER_START_MS : 0)
let shutdownMs: number | undefined
let bound: NodeJS.Timeout | undefined
await Promise.race([
  shutdown!.then(() => void (shutdownMs = performance.now() - started)),
  new Promise((resolve) => (bound = setTimeout(resolve, shutdownBoundMs))),
])
clearTimeout(bound)
progress(shutdownMs === undefined ? 'shutdown did not resolve' : 'shutdown resolved')
// Loop futures settle through microtasks, and then() callbacks after them.
await new Promise((resolve) => setTimeout(resolve, 50))

clearInterval(beat)
const records = live.map(conclude)
const violations = judge(records, facts())
if (shutdownMs === undefined) violations.push({ class: 'shutdown-hung', task: -1, detail: `shutdown() did not resolve within ${shutdownBoundMs} ms` })
if (tally.error?.includes('did not resolve')) violations.push({ class: 'remote-never-made', task: -1, detail: `remote() ${tally.error}` })
for (const error of hostErrors) violations.push({ class: 'host-error', task: -1, detail: error })
progress('judged')
const processesLeft = await settleList(() => [...new Set([...poolChildren(), ...reportedPids().filter(alive)])], 3000)
const handlesLeft = shutdownMs === undefined ? [] : await settleList(() => extraResources(baseline), 3000)
if (processesLeft.length > 0) violations.push({ class: 'processes-left', task: -1, detail: `alive after shutdown: ${processesLeft.join(', ')}` })
if (handlesLeft.length > 0) violations.push({ class: 'handles-left', task: -1, detail: `still active after shutdown: ${handlesLeft.join(', ')}` })
const report: RunReport = {
  seed,
  pool: schedule.pool.kind,
  planned: live.length,
  submitted: records.filter((r) => r.refused === undefined).length,
  refused: records.filter((r) => r.refused !== undefined).length,
  faults,
  violations,
  unsettled: records.filter((r) => r.refused === undefined && r.outcome.is === 'pending').length,
  wronglySettled: new Set(violations.filter((v) => v.task >= 0 && v.class !== 'unsettled').map((v) => v.task)).size,
  processesLeft,
  handlesLeft,
  shutdownMs,
  hostErrors,
}
writeFileSync(reportPath!, JSON.stringify(report))
progress('reported')
// A pool whose shutdown hung still holds workers: the report is written, so end here.
process.exit(0)

function makePool({ pool }: Schedule): ThreadPoolExecutor | ProcessPoolExecutor {
  const common = { maxWorkers: pool.maxWorkers, interruptGraceMs: pool.interruptGraceMs, ...(pool.maxQueued ? { maxQueued: pool.maxQueued } : {}) }
  if (pool.kind === 'thread') {
    return new ThreadPoolExecutor({
      ...common,
      ...(pool.recycleAfter ? { maxTasksPerWorker: pool.recycleAfter } : {}),
      // Small enough that allocate() ends its worker quickly, big enough for every other task.
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
    })
  }
  return new ProcessPoolExecutor({
    ...common,
    ...(pool.recycleAfter ? { maxTasksPerChild: pool.recycleAfter } : {}),
    onChildExit: pool.kind === 'process-replace' ? 'replace' : 'break',
  })
}

function submit(plan: TaskPlan, via: 'submit' | 'runInExecutor'): void {
  const index = live.length
  const record: TaskRecord = {
    index, plan, via, cancelReturnedTrue: false, aborted: false, callbacks: 0, thens: 0, outcome: { is: 'pending' }, mismatches: [],
  }
  const entry: Live = { record, blocks: [] }
  live.push(entry)
  const options: SubmitOptions = {}
  if (plan.do === 'hang' && plan.stop === 'timeout') options.timeoutMs = plan.ms
  if (plan.do === 'hang' && plan.stop === 'abort') options.signal = (entry.controller = new AbortController()).signal
  if (via === 'runInExecutor' && !ex.hasRoom()) count('maxQueued wait')
  try {
    if (plan.do === 'remote') {
      if (!tally.object) throw { name: `remote() failed: ${tally.error}` }
      entry.future = tally.object.add(index)
    } else {
      const [fn, args] = call(plan, index)
      entry.future = via === 'submit' ? ex.submitWith(options, fn, ...args) : runInExecutorWith(ex, options, fn, ...args)
    }
  } catch (error) {
    record.refused = nameOf(error)
    return
  }
  countTask(plan)
  const future = entry.future
  future.addDoneCallback(() => {
    record.callbacks++
    if (future instanceof Future && future.running()) record.mismatches.push('running() is true in a done callback')
  })
  future.then(
    (value) => ((record.thens++, (entry.awaited = { ok: true, value }))),
    (error: unknown) => ((record.thens++, (entry.awaited = { ok: false, value: error }))),
  )
}

/** The task and its arguments, loosely typed: one call site submits them all. */
function call(plan: TaskPlan, id: number): [Task<(...args: unknown[]) => unknown>, unknown[]] {
  const pair = ((): [unknown, unknown[]] => {
    switch (plan.do) {
      case 'value': return [tasks.value, [id, plan.how, plan.ms, plan.value]]
      case 'throw': return [tasks.fail, [id, plan.kind, plan.message]]
      case 'exit': return [tasks.exit, [id, plan.code]]
      case 'throw-outside': return [tasks.throwOutside, [id, plan.ms]]
      case 'oom': return [tasks.allocate, [id]]
      case 'hang': return [tasks.hang, [id, plan.how]]
      case 'remote': throw new Error('remote calls go through the remote object')
    }
  })()
  return pair as [Task<(...args: unknown[]) => unknown>, unknown[]]
}

async function makeRemote(): Promise<void> {
  count('remote() flood')
  try {
    const made = remote<typeof import('./tasks.js').Tally>(ex, new URL('./tasks.ts', import.meta.url), 'Tally')
    tally.object = await bounded(made, 10_000)
    if (!tally.object) tally.error = 'it did not resolve within 10 s'
  } catch (error) {
    tally.error = describe(error)
  }
}

/** `promise`'s value, or undefined if it takes longer than `ms` (a rejection is thrown). */
async function bounded<T>(promise: PromiseLike<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

function countTask(plan: TaskPlan): void {
  if (plan.do === 'exit') count('process.exit')
  else if (plan.do === 'throw-outside') count('throw outside a task')
  else if (plan.do === 'oom') count('out of memory')
  else if (plan.do === 'hang') count(plan.how === 'ignore' ? `hang ignoring ${plan.stop} (killed)` : `interrupt by ${plan.stop}`)
  else if (plan.do === 'remote') count('remote call')
  else if (plan.do === 'throw') count(/hostile|getter|bigint|function/.test(plan.kind) ? 'hostile throw' : 'throw')
  else count('return')
}

function abort(entry: Live): void {
  if (!entry.controller || entry.record.aborted) return
  entry.record.aborted = true
  entry.controller.abort(new Error(`soak abort #${entry.record.index}`))
}

function block(entry: Live, ms: number): void {
  const future = entry.future
  if (!(future instanceof Future)) return
  count('blocking result()')
  try {
    entry.blocks.push({ ok: true, value: future.result(ms) })
  } catch (error) {
    entry.blocks.push({ ok: false, value: error })
  }
}

function startShutdown(cancelFutures: boolean, kind: string): void {
  if (shutdown) return
  count(cancelFutures ? `${kind} (cancelFutures)` : kind)
  shutdownCancelled = cancelFutures
  shutdown = ex.shutdown({ cancelFutures })
  // A rejection is a finding too, not a crash of this run.
  shutdown.catch((error: unknown) => void hostErrors.push(`shutdown() rejected: ${describe(error)}`))
}

/** The record of a task, with how its future ended, cross-checked every way it can be read. */
function conclude(entry: Live): TaskRecord {
  const { record, future } = entry
  if (!future || !future.done()) return record
  const read = (f: () => unknown): { ok: boolean; value: unknown } => {
    try {
      return { ok: true, value: f() }
    } catch (error) {
      return { ok: false, value: error }
    }
  }
  const result = future instanceof Future ? read(() => future.result(0)) : read(() => future.result())
  const exception = future instanceof Future ? read(() => future.exception(0)) : read(() => future.exception())
  const isCancelled = future.cancelled()
  const mismatch = (text: string): void => void record.mismatches.push(text)
  if (future instanceof Future && future.running()) mismatch('running() after done')
  if (isCancelled !== (!result.ok && nameOf(result.value) === 'CancelledError')) mismatch(`cancelled() is ${isCancelled}, result() threw ${describe(result.value)}`)
  if (future instanceof Future && isCancelled && !(result.value instanceof CancelledError)) mismatch('cancelled, but result() did not throw CancelledError')
  const awaited = entry.awaited
  if (!awaited) mismatch('await has not settled though the future is done')
  else if (isCancelled) {
    if (awaited.ok || nameOf(awaited.value) !== 'CancelledError') mismatch(`cancelled, await gave ${describe(awaited.value)}`)
  } else if (awaited.ok !== result.ok || !Object.is(awaited.value, result.value)) {
    mismatch(`await gave ${awaited.ok ? 'value' : 'error'} ${describe(awaited.value)}, result() ${result.ok ? 'returned' : 'threw'} ${describe(result.value)}`)
  }
  if (!isCancelled && exception.ok && !Object.is(exception.value, result.ok ? undefined : result.value)) mismatch('exception() disagrees with result()')
  for (const blocked of entry.blocks) {
    if (blocked.ok ? result.ok && Object.is(blocked.value, result.value) : allowedBlockError(blocked.value, result, isCancelled)) continue
    mismatch(`a blocking result() ${blocked.ok ? 'returned' : 'threw'} ${describe(blocked.value)}; the future ended ${describe(result.value)}`)
  }
  const outcome: Outcome = isCancelled ? { is: 'cancelled' } : result.ok ? { is: 'value', value: seen(result.value) } : { is: 'error', error: seen(result.value) }
  return { ...record, outcome }
}

function allowedBlockError(thrown: unknown, result: { ok: boolean; value: unknown }, cancelled: boolean): boolean {
  const name = nameOf(thrown)
  return name === 'TimeoutError' || (cancelled && name === 'CancelledError') || (!result.ok && Object.is(thrown, result.value))
}

function facts(): RunFacts {
  const starts = new Map<number, string[]>()
  const finished = new Set<number>()
  let text = ''
  try {
    text = readFileSync(process.env.SOAK_LOG!, 'utf8')
  } catch {
    // No task ran.
  }
  for (const line of text.split('\n')) {
    const [kind, id, where] = line.split(' ')
    if (kind === 'S') starts.set(Number(id), [...(starts.get(Number(id)) ?? []), where!])
    if (kind === 'F') finished.add(Number(id))
  }
  return { pool: schedule.pool.kind, starts, finished, killed, shutdownCancelled, shutdownCalled: shutdown !== undefined }
}

function reportedPids(): number[] {
  const pids = new Set<number>()
  for (const where of [...facts().starts.values()].flat()) pids.add(Number(where.split(':')[0]))
  pids.delete(process.pid)
  return [...pids]
}

function seen(value: unknown): Seen {
  if (value === undefined) return { undefined: true, isError: false }
  if (value instanceof Error) {
    const errors = (value as { errors?: unknown }).errors
    return { undefined: false, isError: true, name: safe(() => value.name), message: safe(() => value.message), ...(Array.isArray(errors) ? { errorCount: errors.length } : {}) }
  }
  return { undefined: false, isError: false, json: safe(() => JSON.stringify(value)) }
}

function safe(read: () => unknown): string | undefined {
  try {
    const v = read()
    return typeof v === 'string' ? v : String(v)
  } catch {
    return '<throws>'
  }
}

function nameOf(value: unknown): string {
  return safe(() => (value as { name?: unknown } | null)?.name ?? typeof value) ?? '?'
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${safe(() => value.name)}: ${safe(() => value.message)}`
  return safe(() => JSON.stringify(value) ?? String(value)) ?? '?'
}

