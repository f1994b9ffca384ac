// A pool's workers (src/executors/crew.ts), alone: which number a new worker
// takes and when an idle one retires. The pools' tests cover it only through
// real workers.

import { afterEach, describe, expect, it, vi } from 'vitest'
import { Crew, type CrewRules } from '../src/executors/crew.js'
import type { Job } from '../src/executors/job.js'
import type { Pin } from '../src/executors/pin.js'
import type { PoolMember } from '../src/executors/pool-member.js'

interface Fake {
  index: number
  jobs: Map<number, Job>
  pinned: Set<Pin>
  assigned: number
  retiring: boolean
  idleTimer: NodeJS.Timeout | undefined
}

function crew(rules: Partial<CrewRules<PoolMember>> = {}): { crew: Crew<PoolMember>; stopped: number[] } {
  const stopped: number[] = []
  const spawn = (index: number): PoolMember => ({ index, jobs: new Map(), pinned: new Set(), assigned: 0, retiring: false, idleTimer: undefined } satisfies Fake) as unknown as PoolMember
  return { crew: new Crew({ maxTasksPerWorker: Infinity, idleTimeoutMs: Infinity, target: () => 4, spawn, stop: (m) => stopped.push(m.index), ...rules }), stopped }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('crew', () => {
  it('a new worker takes the lowest number not in use', () => {
    const { crew: c } = crew()
    const [a, b, d] = [c.start(), c.start(), c.start()]
    expect([a.index, b.index, d.index]).toEqual([0, 1, 2])
    c.retire(b)
    expect(c.start().index).toBe(1)
    expect(c.list.map((m) => m.index)).toEqual([0, 2, 1])
  })

  it('an idle worker that ran its quota, or stands past the target, retires at once; a pinned one never', () => {
    let target = 4
    const { crew: c, stopped } = crew({ maxTasksPerWorker: 3, target: () => target })
    const [spent, fresh, extra] = [c.start(), c.start(), c.start()]
    ;(spent as unknown as Fake).assigned = 3
    c.idle(spent)
    c.idle(fresh)
    expect(stopped).toEqual([0])
    expect([spent.retiring, fresh.retiring]).toEqual([true, false])
    target = 1
    fresh.pinned.add({} as Pin)
    c.retireExcess()
    expect(stopped).toEqual([0, 2]) // fresh holds a remote object: it stays
    expect(c.list).toEqual([fresh])
    expect(extra.retiring).toBe(true)
  })

  it('an idle worker retires after idleTimeoutMs unless it got work; unpinning its last object makes it idle', () => {
    vi.useFakeTimers()
    const { crew: c, stopped } = crew({ idleTimeoutMs: 100 })
    const [a, b] = [c.start(), c.start()]
    c.idle(a)
    c.idle(b)
    ;(b.jobs as Map<number, Job>).set(1, {} as Job)
    vi.advanceTimersByTime(100)
    expect(stopped).toEqual([0])
    const pin = {} as Pin
    ;(b.jobs as Map<number, Job>).clear()
    b.pinned.add(pin)
    c.idle(b)
    vi.advanceTimersByTime(200)
    expect(stopped).toEqual([0]) // pinned: no idle timer
    c.unpinned(pin)
    vi.advanceTimersByTime(100)
    expect(stopped).toEqual([0, 1])
    expect(c.takeAll()).toEqual([])
  })

  it('holding() finds the worker that holds a job; takeAll() marks and gives every worker', () => {
    const { crew: c } = crew()
    const [a, b] = [c.start(), c.start()]
    const job = { id: 7 } as Job
    ;(b.jobs as Map<number, Job>).set(7, job)
    expect(c.holding(job)).toBe(b)
    expect(c.holding({ id: 7 } as Job)).toBeUndefined() // another job with the same id
    expect(c.takeAll()).toEqual([a, b])
    expect([a.retiring, b.retiring, c.list.length]).toEqual([true, true, 0])
  })
})
