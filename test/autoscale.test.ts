import { describe, expect, it } from 'vitest'
import type { Future } from 'concurrent-futures'
import { pool, processPool, tasks, until } from './helpers.js'

describe('autoscale', () => {
  it.each([['thread', pool], ['process', processPool]] as const)('a %s pool grows under a blocking sleep workload and shrinks when the work stops', async (_, make) => {
    const ex = make({ maxWorkers: 6, autoscale: true })
    expect(ex.maxWorkers).toBe(6)
    const live = new Set<Future<number>>()
    let feeding = true
    const feed = (async () => {
      while (feeding) {
        while (live.size < 16) {
          const f = ex.submit(tasks.sleepSync, 20)
          live.add(f)
          void f.then(() => live.delete(f))
        }
        await Promise.race(live)
      }
    })()
    try {
      await until(() => ex.workerCount >= 4, 20_000) // from 1: each step up that pays is kept
    } finally {
      feeding = false
      await feed
      await Promise.all(live)
    }
    await until(() => ex.workerCount <= 1, 15_000) // idle: a worker less per period, down to minWorkers
    await ex.shutdown()
  }, 45_000)

  it('stays within [minWorkers, maxWorkers] and starts at minWorkers', async () => {
    const ex = pool({ maxWorkers: 3, autoscale: { minWorkers: 2 } })
    await Promise.all(Array.from({ length: 4 }, () => ex.submit(tasks.sleepSync, 50)))
    expect(ex.workerCount).toBe(2)
    await ex.shutdown()
  })

  it.each([
    [{ autoscale: 'yes' }, TypeError, /autoscale must be an object, got 'yes'/],
    [{ autoscale: { min: 1 } }, TypeError, /has no option 'min'/],
    [{ autoscale: { minWorkers: 0 } }, RangeError, /autoscale\.minWorkers must be an integer from 1/],
    [{ maxWorkers: 2, autoscale: { minWorkers: 3 } }, RangeError, /autoscale\.minWorkers must be at most maxWorkers \(2\), got 3/],
  ])('%j is refused at the door', (options, type, message) => {
    expect(() => pool(options as never)).toThrow(type)
    expect(() => pool(options as never)).toThrow(message)
  })
})
