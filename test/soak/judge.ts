// The soak's invariant: what each future may have settled with, given what its
// task did (the log of what ran where) and which faults hit the pool. Pure: it
// judges plain records, so a report can carry them.

import type { PoolKind, TaskPlan } from './schedule.js'

/** A thrown or returned value, as much of it as the judge needs. */
export interface Seen {
  undefined: boolean
  isError: boolean
  name?: string
  message?: string
  /** AggregateError.errors, when it is an array. */
  errorCount?: number
  /** JSON of a non-Error value. */
  json?: string
}

export type Outcome = { is: 'value'; value: Seen } | { is: 'error'; error: Seen } | { is: 'cancelled' } | { is: 'pending' }

export interface TaskRecord {
  index: number
  plan: TaskPlan
  via: 'submit' | 'runInExecutor'
  /** Name of what submit() threw, if it refused the task. */
  refused?: string
  cancelReturnedTrue: boolean
  aborted: boolean
  /** How often done callbacks and then() reported it settled (each must be once). */
  callbacks: number
  thens: number
  outcome: Outcome
  /** Disagreements between await and result(0)/exception(0), and what a blocking result() threw that it should not have. */
  mismatches: string[]
}

export interface RunFacts {
  pool: PoolKind
  /** "S"/"F" lines of the task log: where each task started, whether it completed. */
  starts: Map<number, string[]>
  finished: Set<number>
  /** Worker ids ("pid:threadId") of SIGKILLed children. */
  killed: Set<string>
  shutdownCancelled: boolean
  shutdownCalled: boolean
}

export interface Violation {
  class: string
  /** The task's index, or -1 for the run as a whole. */
  task: number
  detail: string
}

/** What a run process reports. */
export interface RunReport {
  seed: number
  pool: PoolKind
  planned: number
  submitted: number
  refused: number
  faults: Record<string, number>
  violations: Violation[]
  unsettled: number
  wronglySettled: number
  processesLeft: number[]
  handlesLeft: string[]
  shutdownMs: number | undefined
  hostErrors: string[]
}

/** Faults that end the worker running them, and whether that worker could still have sent what it had finished. */
const WORKER_FAULTS: Record<string, 'cooperative' | 'abrupt'> = {
  exit: 'cooperative', 'throw-outside': 'cooperative', hang: 'cooperative', oom: 'abrupt', kill: 'abrupt',
}

function faultOf(plan: TaskPlan): string | undefined {
  if (plan.do === 'hang') return plan.how === 'ignore' ? 'hang' : undefined
  return plan.do in WORKER_FAULTS ? plan.do : undefined
}

/** Whose worker ended through a fault of which kind, from what ran where. */
function workerFaults(records: TaskRecord[], facts: RunFacts): Map<string, string> {
  const faults = new Map<string, string>()
  for (const id of facts.killed) faults.set(id, 'kill')
  for (const record of records) {
    const fault = faultOf(record.plan)
    const where = facts.starts.get(record.index)?.[0]
    if (fault && where && !faults.has(where)) faults.set(where, fault)
  }
  return faults
}

const LOST = new Set(['WorkerLost', 'BrokenProcessPool', 'BrokenThreadPool'])

export function judge(records: TaskRecord[], facts: RunFacts): Violation[] {
  const violations: Violation[] = []
  const faults = workerFaults(records, facts)
  const anyFault = faults.size > 0
  const hostileWorkers = new Set(records.filter((r) => r.plan.do === 'throw' && isHostile(r.plan.kind)).map((r) => facts.starts.get(r.index)?.[0]))
  for (const record of records) {
    const flag = (cls: string, detail: string): void => void violations.push({ class: cls, task: record.index, detail })
    const { outcome, plan } = record
    const where = facts.starts.get(record.index)
    if (record.refused !== undefined) {
      if (!refusalAllowed(record, facts, anyFault)) flag(attribute('refused-wrongly', record, undefined, hostileWorkers, facts.pool), `submit threw ${record.refused}`)
      continue
    }
    if ((where?.length ?? 0) > 1) flag('ran-twice', `started on ${where!.join(' and ')}`)
    if (outcome.is === 'pending') {
      flag('unsettled', 'still pending when the run ended (after shutdown() resolved or its bound passed)')
      continue
    }
    if (record.callbacks !== 1) flag('callbacks-not-once', `done callback ran ${record.callbacks} times`)
    if (record.thens !== 1) flag('await-not-once', `then() settled ${record.thens} times`)
    for (const mismatch of record.mismatches) flag('await-result-disagree', mismatch)
    if (record.cancelReturnedTrue && outcome.is !== 'cancelled') flag('cancel-not-honoured', `cancel() returned true, settled ${show(outcome)}`)
    if (outcome.is === 'cancelled') {
      const allowed = record.cancelReturnedTrue || facts.shutdownCancelled || record.aborted
      if (!allowed) flag('cancelled-wrongly', 'cancelled, but nothing cancelled it')
      if (where && record.via === 'submit') flag('ran-after-cancel', `cancelled, yet it started on ${where[0]}`)
      continue
    }
    if (outcome.is === 'error' && outcome.error.undefined) {
      flag('settled-undefined', 'failed with undefined as its exception')
      continue
    }
    if (outcome.is === 'error' && LOST.has(outcome.error.name ?? '')) {
      const problem = lossProblem(record, outcome.error.name!, facts, faults, anyFault)
      if (problem) flag(attribute(problem[0], record, where?.[0], hostileWorkers, facts.pool), problem[1])
      continue
    }
    if (outcome.is === 'error' && record.via === 'runInExecutor' && outcome.error.name === 'ExecutorShutdownError' && facts.shutdownCalled) continue
    const wrong = wrongOutcome(plan, outcome)
    if (wrong) flag(wrong[0], wrong[1])
  }
  return [...violations, ...remoteOrder(records)]
}

/** The calls of one remote object run in order, one at a time: the values they return grow with each call that ran. */
function remoteOrder(records: TaskRecord[]): Violation[] {
  let last = 0
  const violations: Violation[] = []
  for (const record of records) {
    if (record.plan.do !== 'remote' || record.outcome.is !== 'value') continue
    const value = Number(record.outcome.value.json)
    if (!(value > last) || value > record.plan.call) {
      violations.push({ class: 'remote-out-of-order', task: record.index, detail: `call ${record.plan.call} returned ${record.outcome.value.json} after ${last}` })
    }
    last = value
  }
  return violations
}

/**
 * A loss (or a broken pool's refusal) with no fault to explain it, on a worker
 * that ran a hostile throw, or in a process pool that breaks: that throw is the
 * likely cause.
 */
function attribute(cls: string, record: TaskRecord, where: string | undefined, hostileWorkers: Set<string | undefined>, pool: PoolKind): string {
  if (cls !== 'lost-without-fault' && !(cls === 'refused-wrongly' && record.refused === 'BrokenProcessPool')) return cls
  if (record.plan.do === 'throw' && isHostile(record.plan.kind)) return 'hostile-error-lost-worker'
  const hostileBroke = pool === 'process-break' && [...hostileWorkers].some((w) => w !== undefined)
  return (where !== undefined && hostileWorkers.has(where)) || hostileBroke ? 'lost-to-hostile-error' : cls
}

function isHostile(kind: string): boolean {
  return kind.startsWith('hostile') || kind.startsWith('getter') || kind === 'bigint-prop' || kind === 'object-with-function'
}

function refusalAllowed(record: TaskRecord, facts: RunFacts, anyFault: boolean): boolean {
  // The flood's object could not be made: fine only if the pool had shut down or broken, or a fault took its worker.
  // One that never came is reported once, for the run (remote-never-made), not once per call.
  if (record.plan.do === 'remote') {
    return /after shutdown|did not resolve/.test(record.refused!) || (anyFault && /not usable|is gone|WorkerLost/.test(record.refused!)) ||
      (facts.pool === 'process-break' && anyFault && /BrokenProcessPool/.test(record.refused!))
  }
  if (record.refused === 'ExecutorShutdownError') return facts.shutdownCalled
  if (record.refused === 'QueueFullError') return record.via === 'submit'
  if (record.refused === 'BrokenProcessPool') return facts.pool === 'process-break' && anyFault
  return false
}

/** Why a WorkerLost/Broken* outcome is not allowed here, or undefined if it is. */
function lossProblem(record: TaskRecord, name: string, facts: RunFacts, faults: Map<string, string>, anyFault: boolean): [string, string] | undefined {
  const where = facts.starts.get(record.index)?.[0]
  const finished = facts.finished.has(record.index)
  if (name === 'BrokenThreadPool' || (name === 'BrokenProcessPool' && facts.pool !== 'process-break')) {
    return ['broken-without-cause', `${name}, though this pool (${facts.pool}) has no reason to break: ${record.outcome.is === 'error' ? record.outcome.error.message : ''}`]
  }
  if (name === 'BrokenProcessPool' && where !== undefined && faults.get(where) === undefined) {
    // Another child's fault broke the pool: everything not yet back from the pool's point of view fails.
    return anyFault ? undefined : ['lost-without-fault', `${name} with no fault in the pool`]
  }
  // Once the worker holding a remote object is gone, its later calls fail without starting.
  if (where === undefined && record.plan.do === 'remote') return anyFault ? undefined : ['lost-without-fault', `${name} for a remote call, with no fault in the pool`]
  if (where === undefined) {
    // Never started. Threads claim as they start, so a lost thread's unstarted tasks go elsewhere;
    // a child may hold tasks its relay claimed for it, which fail with it.
    if (facts.pool === 'thread') return ['lost-unstarted', `${name} for a task that never started`]
    return anyFault ? undefined : ['lost-without-fault', `${name} for a task that never started, with no fault in the pool`]
  }
  const fault = faults.get(where)
  if (fault === undefined) return ['lost-without-fault', `${name}: its worker ${where} had no fault`]
  const own = faultOf(record.plan) !== undefined
  if (finished && !own && WORKER_FAULTS[fault] === 'cooperative') {
    return ['finished-result-lost', `${name}: it completed on ${where}, which later ended by ${fault} and did not send its result`]
  }
  return undefined
}

function wrongOutcome(plan: TaskPlan, outcome: Outcome): [string, string] | undefined {
  if (outcome.is !== 'value' && outcome.is !== 'error') return undefined
  switch (plan.do) {
    case 'value':
      if (outcome.is === 'error') return ['failed-for-value', `the task returned, the future failed with ${show(outcome)}`]
      return outcome.value.json === JSON.stringify(plan.value) ? undefined : ['wrong-value', `expected ${JSON.stringify(plan.value)}, got ${show(outcome)}`]
    case 'throw':
      if (outcome.is === 'value') return ['success-for-throw', `the task threw ${plan.kind}, the future returned ${show(outcome)}`]
      return wrongError(plan.kind, plan.message, outcome.error)
    case 'hang': {
      if (outcome.is === 'value') return ['success-for-interrupted', `returned ${show(outcome)}: never interrupted`]
      const expected = plan.stop === 'timeout' ? outcome.error.name === 'TimeoutError' : outcome.error.message?.includes('soak abort') === true
      return expected ? undefined : ['wrong-interrupt-error', `interrupted by ${plan.stop}, failed with ${show(outcome)}`]
    }
    case 'remote':
      // Its value is checked against its neighbours' (remoteOrder); a refusal after shutdown comes back as an error.
      if (outcome.is === 'value') return undefined
      return /after shutdown|not usable/.test(outcome.error.message ?? '') ? undefined : ['failed-for-value', `a remote call failed with ${show(outcome)}`]
    default:
      return outcome.is === 'value' ? ['success-for-fault', `${plan.do} returned ${show(outcome)}`] : undefined
  }
}

/** The error a throw of `kind` must come back as (as far as the codec can carry it). */
function wrongError(kind: string, message: string, error: Seen): [string, string] | undefined {
  const fail = (what: string): [string, string] => ['wrong-error', `threw ${kind}, got ${showSeen(error)}: ${what}`]
  if (kind === 'string') return error.json === JSON.stringify(message) || error.message?.includes(message) ? undefined : fail('not the string')
  if (kind === 'number') return error.json === '42' || error.message?.includes('42') ? undefined : fail('not the number')
  if (kind === 'object' || kind === 'object-with-function') {
    return error.json?.includes(message) || error.message?.includes(message) ? undefined : fail('the object is lost')
  }
  if (!error.isError) return fail('not an Error')
  if (kind.startsWith('getter:')) return undefined // an Error, whatever the getter left of it
  const name = kind.startsWith('hostile-name:') ? kind.slice('hostile-name:'.length)
    : ({ range: 'RangeError', 'bigint-prop': 'RangeError', custom: 'SoakError', aggregate: 'AggregateError' } as Record<string, string>)[kind] ?? 'Error'
  if (error.name !== name) return fail(`name is not ${name}`)
  if (error.message !== message) return fail('message differs')
  if (kind === 'aggregate' && error.errorCount !== 2) return fail('its errors are lost')
  return undefined
}

function show(outcome: Outcome): string {
  if (outcome.is === 'value') return `value ${showSeen(outcome.value)}`
  if (outcome.is === 'error') return `error ${showSeen(outcome.error)}`
  return outcome.is
}

function showSeen(seen: Seen): string {
  if (seen.undefined) return 'undefined'
  if (seen.isError) return `${seen.name}: ${seen.message}`
  return seen.json ?? '?'
}
