// The short seeded fault soak (the long one is `npm run soak`): each seed is a
// random schedule of tasks that return, throw (hostile errors too), exit,
// throw outside a task, run out of memory, hang until interrupted, plus
// SIGKILLed children, cancel storms, maxQueued waits, recycling and a shutdown
// at a random moment, played against a real pool in a process of its own
// (test/soak/run-one.ts). Every future must settle exactly once with what its
// task did, the host must not crash, shutdown must resolve, and no process or
// handle may be left. A failure prints the seed, the violations and the schedule.

import { describe, expect, it } from 'vitest'
import { describeFailure, soakRun } from './soak/harness.js'
import { judge, type RunFacts, type TaskRecord } from './soak/judge.js'
import { describeSchedule, makeSchedule } from './soak/schedule.js'

/** Chosen to cover each pool kind, OOM, SIGKILL, recycling, maxQueued, a remote() flood past the slot count and both shutdowns; see describeSchedule(). */
const SEEDS = [52, 23, 8, 30, 43, 13, 21]
const TASKS = 60

describe('seeded fault soak (short)', () => {
  for (const seed of SEEDS) {
    const { pool } = makeSchedule(seed, TASKS)
    it(`seed ${seed}: ${pool.kind}, ${pool.maxWorkers} worker(s)`, async () => {
      const result = await soakRun(seed, TASKS, { timeoutMs: 45_000, shutdownBoundMs: 10_000 })
      expect(result.violations, describeFailure(result)).toEqual([])
    }, 60_000)
  }

  it('a seed always draws the same schedule', () => {
    expect(describeSchedule(makeSchedule(11, TASKS))).toBe(describeSchedule(makeSchedule(11, TASKS)))
    expect(describeSchedule(makeSchedule(11, TASKS))).not.toBe(describeSchedule(makeSchedule(12, TASKS)))
  })
})

describe('the soak judge', () => {
  const base = { via: 'submit' as const, cancelReturnedTrue: false, aborted: false, callbacks: 1, thens: 1, mismatches: [] }
  const value = { do: 'value' as const, how: 'sync' as const, ms: 0, value: 1 }
  const lost = { is: 'error' as const, error: { undefined: false, isError: true, name: 'WorkerLost', message: 'gone' } }
  const facts = (over: Partial<RunFacts> = {}): RunFacts => ({
    pool: 'thread', starts: new Map(), finished: new Set(), killed: new Set(), shutdownCancelled: false, shutdownCalled: true, ...over,
  })
  const classes = (records: TaskRecord[], f: RunFacts): string[] => judge(records, f).map((v) => v.class)

  it('accepts the truth: a value, a loss on the worker a fault ended, a cancel that cancel() asked for', () => {
    const records: TaskRecord[] = [
      { ...base, index: 0, plan: value, outcome: { is: 'value', value: { undefined: false, isError: false, json: '1' } } },
      { ...base, index: 1, plan: value, outcome: lost },
      { ...base, index: 2, plan: { do: 'exit', code: 1 }, outcome: lost },
      { ...base, index: 3, plan: value, cancelReturnedTrue: true, outcome: { is: 'cancelled' } },
    ]
    expect(classes(records, facts({ starts: new Map([[0, ['1:1']], [1, ['1:2']], [2, ['1:2']]]), finished: new Set([0]) }))).toEqual([])
  })

  it('flags each way a future can lie', () => {
    const records: TaskRecord[] = [
      { ...base, index: 0, plan: value, outcome: lost },
      { ...base, index: 1, plan: value, outcome: lost },
      { ...base, index: 2, plan: { do: 'exit', code: 1 }, outcome: lost },
      { ...base, index: 3, plan: value, outcome: { is: 'cancelled' } },
      { ...base, index: 4, plan: value, outcome: { is: 'error', error: { undefined: true, isError: false } } },
      { ...base, index: 5, plan: { do: 'throw', kind: 'range', message: 'm' }, outcome: { is: 'value', value: { undefined: true, isError: false } } },
      { ...base, index: 6, plan: value, outcome: { is: 'pending' } },
      { ...base, index: 7, plan: value, callbacks: 2, outcome: { is: 'value', value: { undefined: false, isError: false, json: '1' } } },
      { ...base, index: 8, plan: value, refused: 'TypeError', outcome: { is: 'pending' } },
    ]
    const f = facts({ starts: new Map([[0, ['1:1']], [1, ['1:2']], [2, ['1:2']]]), finished: new Set([1]) })
    expect(classes(records, f)).toEqual([
      'lost-without-fault', 'finished-result-lost', 'cancelled-wrongly', 'settled-undefined', 'success-for-throw', 'unsettled', 'callbacks-not-once', 'refused-wrongly',
    ])
  })
})
