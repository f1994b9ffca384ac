import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { ALL_COMPLETED, asCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, Future, TimeoutError, wait, type ReturnWhen } from 'concurrent-futures'
import { backends, cancelled, finished, tasks } from './helpers.js'

// Part F, over the futures of each backend.
describe.each(backends)('$name', ({ make }) => {
  describe('wait (part F)', () => {
    it('deduplicates (B93) and returns two empty sets for nothing (B102)', () => {
      const f = finished(1)
      expect(wait([f, f]).done).toEqual(new Set([f]))
      const empty = wait([])
      expect([empty.done.size, empty.notDone.size]).toEqual([0, 0])
    })

    it('FIRST_COMPLETED returns on the first result; a cancelled future is done at once (B94, B95)', () => {
      const ex = make()
      const quick = ex.submit(tasks.sleepSync, 10)
      const slow = ex.submit(tasks.sleepSync, 3000)
      const c = cancelled()
      const first = wait([c, quick, slow], { returnWhen: FIRST_COMPLETED })
      expect(first.done.has(c)).toBe(true)
      expect(first.notDone.has(slow)).toBe(true)
      const second = wait([quick, slow], { returnWhen: FIRST_COMPLETED })
      expect(second.done).toEqual(new Set([quick]))
      expect(second.notDone).toEqual(new Set([slow]))
    })

    it('FIRST_EXCEPTION returns on the first failure (B96, B97) and otherwise waits for all (B98)', () => {
      const ex = make()
      const ok = finished(1)
      const raising = ex.submit(tasks.fail, 'x')
      const slow = ex.submit(tasks.sleepSync, 3000)
      const result = wait([ok, raising, slow], { returnWhen: FIRST_EXCEPTION })
      expect(result.done).toEqual(new Set([ok, raising]))
      expect(result.notDone).toEqual(new Set([slow]))
      expect(wait([raising, slow], { returnWhen: FIRST_EXCEPTION, timeout: 0 }).done).toEqual(new Set([raising]))
      const c = cancelled()
      const all = wait([ok, c, ex.submit(tasks.add, 1, 1)], { returnWhen: FIRST_EXCEPTION })
      expect(all.notDone.size).toBe(0)
    })

    it('ALL_COMPLETED includes failed and cancelled futures (B99)', () => {
      const ex = make()
      const futures = [ex.submit(tasks.add, 1, 1), ex.submit(tasks.fail, 'x'), cancelled(), ex.submit(tasks.sleepSync, 30)]
      const { done, notDone } = wait(futures, { returnWhen: ALL_COMPLETED })
      expect(done).toEqual(new Set(futures))
      expect(notDone.size).toBe(0)
    })

    it('returns the partition on timeout, never throws (B100)', () => {
      const ex = make()
      const slow = ex.submit(tasks.sleepSync, 3000)
      const { done, notDone } = wait([finished(1), slow], { timeout: 50 })
      expect(done.size).toBe(1)
      expect(notDone).toEqual(new Set([slow]))
    })

    it('loses no wake-up over 100 futures finishing together (B101)', () => {
      const ex = make()
      const futures = Array.from({ length: 100 }, (_, i) => ex.submit(tasks.identity, i))
      expect(wait(futures).done.size).toBe(100)
    })

    it('rejects an invalid returnWhen even when every future is done (unlike CPython, B102)', () => {
      expect(() => wait([finished(1)], { returnWhen: 'SOMETIMES' as ReturnWhen })).toThrow(/wait\(\) option returnWhen must be .*got 'SOMETIMES'/)
      expect(() => wait([new Future()], { returnWhen: 'SOMETIMES' as ReturnWhen, timeout: 0 })).toThrow(TypeError)
    })
  })

  describe('asCompleted (part F)', () => {
    it('yields finished futures first, then the rest as they complete (B103, B108)', () => {
      const ex = make()
      const pre = finished('pre')
      const slow = ex.submit(tasks.sleepSync, 300)
      const fast = ex.submit(tasks.sleepSync, 20)
      const order = [...asCompleted([slow, pre, fast])]
      expect(order).toEqual([pre, fast, slow])
    })

    it('yields what is done, then throws "N (of M) futures unfinished" (B104, B106)', () => {
      const ex = make({ maxWorkers: 1 })
      const running = ex.submit(tasks.sleepSync, 2000)
      const pending = ex.submit(tasks.sleepSync, 2000)
      const done = finished(1)
      const c = cancelled()
      const seen: Future<unknown>[] = []
      expect(() => {
        for (const f of asCompleted([c, pending, running, done], { timeout: 0 })) seen.push(f)
      }).toThrow(new TimeoutError('2 (of 4) futures unfinished'))
      expect(new Set(seen)).toEqual(new Set([c, done]))
    })

    it('yields a repeated future once (B105) and nothing for nothing', () => {
      const f = finished(1)
      expect([...asCompleted([f, f, f])]).toEqual([f])
      expect([...asCompleted([])]).toEqual([])
    })

    it('starts its clock at the first next() (B109)', async () => {
      const ex = make()
      const f = ex.submit(tasks.sleepSync, 100)
      const iterator = asCompleted([f], { timeout: 1000 })
      await new Promise((resolve) => setTimeout(resolve, 1200))
      expect(iterator.next().value).toBe(f)
    })

    it('rejects a negative timeout at the call', () => {
      expect(() => asCompleted([], { timeout: -1 })).toThrow(RangeError)
    })
  })
})

describe('asCompleted (part F)', () => {
  it('lets go of each future once it has yielded it (B107)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const settled = Array.from({ length: 3 }, () => finished(1))
    const yielded = settled.map((f) => new WeakRef(f))
    const iterator = asCompleted(settled.splice(0))
    iterator.next()
    iterator.next()
    await new Promise((resolve) => setTimeout(resolve, 0)) // a WeakRef holds its target until the job ends
    gc()
    expect(yielded.map((ref) => ref.deref() === undefined)).toEqual([true, true, false])
    iterator.return()
  })
})
