// Which worker takes the next job (src/executors/dispatch-policy.ts), alone:
// the pools' tests cover it only through real workers.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pickWorker, SPAWN, type Candidate, type DispatchLimits } from '../src/executors/dispatch-policy.js'

function worker(jobs: number, more: Partial<Omit<Candidate, 'jobs' | 'pinned'>> & { pinned?: number } = {}): Candidate {
  const { pinned = 0, ...rest } = more
  return { jobs: { size: jobs }, window: 2, assigned: 0, pinned: { size: pinned }, retiring: false, interruptible: 0, streams: 0, ...rest }
}
const limits = (more: Partial<DispatchLimits> = {}): DispatchLimits => ({ workers: 4, maxTasksPerWorker: Infinity, interruptAlone: false, ...more })

describe('dispatch policy', () => {
  it('an idle worker takes the job; none idle and room for more: a new one', () => {
    const [a, b] = [worker(1), worker(0)]
    expect(pickWorker([a, b], false, limits())).toBe(b)
    expect(pickWorker([worker(1), worker(1)], false, limits())).toBe(SPAWN)
    expect(pickWorker([], false, limits())).toBe(SPAWN)
  })

  it('at the limit, the least loaded worker with room, the first of equals; none with room: wait', () => {
    const ws = [worker(3, { window: 8 }), worker(1, { window: 8 }), worker(1, { window: 8 })]
    expect(pickWorker(ws, false, limits({ workers: 3 }))).toBe(ws[1])
    expect(pickWorker([worker(2), worker(2)], false, limits({ workers: 2 }))).toBeUndefined()
  })

  it('skips workers that are retiring, spent (unless they hold remote objects) or past an autoscaled target', () => {
    const retiring = worker(0, { retiring: true })
    const spent = worker(0, { assigned: 10 })
    const spentPinned = worker(1, { assigned: 10, pinned: 1 })
    const limited = limits({ workers: 3, maxTasksPerWorker: 10 })
    expect(pickWorker([retiring, spent, spentPinned], false, limited)).toBe(spentPinned)
    expect(pickWorker([retiring, spent], false, limits({ workers: 2, maxTasksPerWorker: 10 }))).toBeUndefined()
    const pastTarget = worker(0)
    expect(pickWorker([worker(2), pastTarget], false, limits({ workers: 1 }))).toBeUndefined()
  })

  it('where workers hold claimed tasks (interruptAlone), an interruptible job goes only to an empty worker, and no job joins one', () => {
    const alone = limits({ interruptAlone: true, workers: 2 })
    const busy = worker(1, { window: 8 })
    const holdsInterruptible = worker(1, { window: 8, interruptible: 1 })
    expect(pickWorker([busy, holdsInterruptible], true, alone)).toBeUndefined()
    expect(pickWorker([busy, holdsInterruptible], false, alone)).toBe(busy)
    const empty = worker(0)
    expect(pickWorker([busy, empty], true, alone)).toBe(empty)
    // Threads claim as they start, so the rule does not apply to them.
    expect(pickWorker([busy, holdsInterruptible], true, limits({ workers: 2 }))).toBe(busy)
  })

  it('a stream runs alone, on every pool: it goes only to an empty worker, and no job joins a worker running one', () => {
    const busy = worker(1, { window: 8 })
    const streaming = worker(1, { window: 8, streams: 1, interruptible: 1 })
    const full = limits({ workers: 2 })
    expect(pickWorker([busy, streaming], false, full, true)).toBeUndefined()
    expect(pickWorker([busy, streaming], false, full)).toBe(busy)
    const empty = worker(0)
    expect(pickWorker([streaming, empty], true, full, true)).toBe(empty)
    expect(pickWorker([streaming], false, limits({ workers: 1 }))).toBeUndefined()
    expect(pickWorker([streaming], true, limits({ workers: 2 }), true)).toBe(SPAWN)
  })

  it('a stream avoids a worker holding remote objects while one without any is free or will come free on its own: their calls would wait behind it', () => {
    const pinned = worker(0, { pinned: 1 })
    const free = worker(0)
    expect(pickWorker([pinned, free], true, limits({ workers: 2 }), true)).toBe(free)
    expect(pickWorker([pinned], true, limits({ workers: 2 }), true)).toBe(SPAWN)
    expect(pickWorker([pinned], true, limits({ workers: 1 }), true)).toBe(pinned)
    expect(pickWorker([pinned, worker(0, { pinned: 2 })], true, limits({ workers: 2 }), true)).toBe(pinned)
    // It waits for a busy worker without any rather than take an idle one holding some.
    expect(pickWorker([pinned, worker(1)], true, limits({ workers: 2 }), true)).toBeUndefined()
    expect(pickWorker([pinned, worker(0, { retiring: true })], true, limits({ workers: 2 }), true)).toBeUndefined()
    // One running a stream comes free only as its consumer reads, who may be reading this one too.
    expect(pickWorker([pinned, worker(1, { streams: 1 })], true, limits({ workers: 2 }), true)).toBe(pinned)
    expect(pickWorker([pinned], false, limits({ workers: 2 }))).toBe(pinned) // other jobs do not mind
  })

  it('any pick is a worker that may take the job and is the least loaded that may; SPAWN only below the limit and with none idle', () => {
    const candidate = fc.record({
      jobs: fc.nat(10).map((size) => ({ size })),
      window: fc.integer({ min: 1, max: 8 }),
      assigned: fc.nat(20),
      pinned: fc.nat(2).map((size) => ({ size })),
      retiring: fc.boolean(),
      interruptible: fc.nat(2),
      streams: fc.nat(1),
    })
    const limitsArb = fc.record({ workers: fc.integer({ min: 1, max: 6 }), maxTasksPerWorker: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 20 })), interruptAlone: fc.boolean() })
    fc.assert(fc.property(fc.array(candidate, { maxLength: 8 }), fc.boolean(), fc.boolean(), limitsArb, (members, interruptibleJob, stream, lim) => {
      const interruptible = interruptibleJob || stream // a stream's consumer may stop it
      // A stream takes a worker holding remote objects only if none without any may start or come free on its own.
      const freeWithoutPins = members.length < lim.workers || members.slice(0, lim.workers).some((m) => m.pinned.size === 0 && m.streams === 0)
      const mayTake = (m: Candidate, i: number): boolean =>
        i < lim.workers && !m.retiring && m.jobs.size < m.window && (m.assigned < lim.maxTasksPerWorker || m.pinned.size > 0) &&
        (!lim.interruptAlone || (interruptible ? m.jobs.size === 0 : m.interruptible === 0)) &&
        m.streams === 0 && (!stream || (m.jobs.size === 0 && (m.pinned.size === 0 || !freeWithoutPins)))
      const eligible = members.filter(mayTake)
      const idle = (m: Candidate): boolean => m.jobs.size === 0
      const pick = pickWorker(members, interruptible, lim, stream)
      if (pick === SPAWN) {
        expect(members.length).toBeLessThan(lim.workers)
        expect(eligible.some(idle)).toBe(false)
      } else if (pick === undefined) {
        expect(eligible).toEqual([])
        expect(members.length).toBeGreaterThanOrEqual(lim.workers)
      } else {
        expect(eligible).toContain(pick)
        expect(pick.jobs.size).toBe(Math.min(...eligible.map((m) => m.jobs.size)))
        expect(idle(pick) || members.length >= lim.workers).toBe(true)
      }
    }), { numRuns: 2000 })
  })
})
