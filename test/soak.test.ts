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
import { describeSchedule, makeSchedule } from './soak/schedule.js'

/** Chosen to cover each pool kind, OOM, SIGKILL, recycling, maxQueued and both shutdowns; see describeSchedule(). */
const SEEDS = [23, 8, 30, 20, 13, 11]
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
