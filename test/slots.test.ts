// The task-slot protocol (src/wire/slots.ts) alone: every transition, a model
// of random interleavings, and a real race between two threads.

import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CANCELLED, cancel, claim, giveBack, INTERRUPTED, interrupt, interrupted, MAX_JOBS_PER_WORKER, PENDING, RUNNING, slotCapacity, started,
  startState, TaskSlots,
} from '../src/wire/slots.js'

const STATES = [PENDING, RUNNING, CANCELLED, INTERRUPTED]
const NAMES = ['PENDING', 'RUNNING', 'CANCELLED', 'INTERRUPTED']

/** The diagram in slots.ts, as a table: each transition's from-state and to-state. */
const TRANSITIONS = {
  claim: { fn: claim, from: PENDING, to: RUNNING },
  cancel: { fn: cancel, from: PENDING, to: CANCELLED },
  interrupt: { fn: interrupt, from: RUNNING, to: INTERRUPTED },
  giveBack: { fn: giveBack, from: RUNNING, to: PENDING },
} as const
type Transition = keyof typeof TRANSITIONS

describe('task slots', () => {
  for (const [name, { fn, from, to }] of Object.entries(TRANSITIONS)) {
    for (const state of STATES) {
      const legal = state === from
      it(`${name} from ${NAMES[state]} ${legal ? `moves it to ${NAMES[to]}` : 'fails and changes nothing'}`, () => {
        const states = new Int32Array(new SharedArrayBuffer(8))
        states[1] = state
        expect(fn(states, 1)).toBe(legal)
        expect(states[1]).toBe(legal ? to : state)
        expect(states[0]).toBe(PENDING) // no neighbour touched
      })
    }
  }

  it('started() is RUNNING or INTERRUPTED; interrupted() only INTERRUPTED', () => {
    const states = new Int32Array(4)
    states.set(STATES)
    expect(STATES.map((_, i) => started(states, i))).toEqual([false, true, false, true])
    expect(STATES.map((_, i) => interrupted(states, i))).toEqual([false, false, false, true])
  })

  it("startState() writes a child's own copy: RUNNING, or INTERRUPTED when the interrupt came first", () => {
    const states = new Int32Array(2)
    startState(states, 0, false)
    startState(states, 1, true)
    expect([...states]).toEqual([RUNNING, INTERRUPTED])
  })

  it('any interleaving of the four transitions follows the diagram, and a task is run or taken back, never both', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Transition>('claim', 'cancel', 'interrupt', 'giveBack'), { maxLength: 30 }), (steps) => {
        const states = new Int32Array(new SharedArrayBuffer(4))
        let model: number = PENDING
        let runs = 0
        for (const step of steps) {
          const { fn, from, to } = TRANSITIONS[step]
          const won = fn(states, 0)
          expect(won).toBe(model === from)
          if (won) model = to
          if (won && step === 'claim') runs++
          if (won && step === 'giveBack') runs-- // the child never started it: it is not run
          expect(states[0]).toBe(model)
        }
        // CANCELLED is final; a claimed task that was not given back is never taken back.
        if (model === CANCELLED) expect(runs).toBe(0)
        if (runs > 0) expect(model === RUNNING || model === INTERRUPTED).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('a worker thread claiming races the pool cancelling: each slot has exactly one winner', async () => {
    const n = 20_000
    const buffer = new SharedArrayBuffer(n * 4)
    const states = new Int32Array(buffer)
    const go = new Int32Array(new SharedArrayBuffer(4))
    const url = new URL('../dist/src/wire/slots.js', import.meta.url).href
    // Both sweep the slots in the same order, so they contend for the lead on every slot.
    const worker = new Worker(
      `const { workerData: { buffer, go, n, url }, parentPort } = require('node:worker_threads')
       import(url).then(({ claim }) => {
         const states = new Int32Array(buffer); const bell = new Int32Array(go)
         Atomics.wait(bell, 0, 0)
         let won = 0
         for (let i = 0; i < n; i++) if (claim(states, i)) won++
         parentPort.postMessage(won)
       })`,
      { eval: true, workerData: { buffer, go: go.buffer, n, url } },
    )
    const claimed = new Promise<number>((resolve) => worker.once('message', resolve))
    await new Promise((resolve) => setTimeout(resolve, 50))
    Atomics.store(go, 0, 1)
    Atomics.notify(go, 0)
    let cancelled = 0
    for (let i = 0; i < n; i++) if (cancel(states, i)) cancelled++
    const won = await claimed
    await worker.terminate()
    expect(won + cancelled).toBe(n)
    expect(states.filter((s) => s === RUNNING).length).toBe(won)
    expect(states.filter((s) => s === CANCELLED).length).toBe(cancelled)
  })
})

describe('TaskSlots', () => {
  it('holds two windows per worker, hands each slot out once, PENDING, and refuses to over-hand', () => {
    const slots = new TaskSlots(1)
    expect(slotCapacity(3)).toBe(3 * MAX_JOBS_PER_WORKER * 2)
    expect(slots.available).toBe(slotCapacity(1))
    const taken = new Set<number>()
    for (let i = 0; i < slotCapacity(1); i++) {
      const slot = slots.take()
      expect(taken.has(slot)).toBe(false)
      expect(slots.states[slot]).toBe(PENDING)
      taken.add(slot)
    }
    expect(slots.available).toBe(0)
    expect(() => slots.take()).toThrow(/no free task slot/)
    slots.states[7] = CANCELLED
    slots.release(7)
    expect(slots.take()).toBe(7)
    expect(slots.states[7]).toBe(PENDING) // re-armed for its next task
  })
})
