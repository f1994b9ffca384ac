import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExecutorShutdownError, taskRef, TimeoutError, type Future, type TaskRef } from 'concurrent-futures'
import { backends, localBackends, tasks } from './helpers.js'

// Part C of the spec, and what every executor promises beyond it, run against each backend.
describe.each(backends)('$name', ({ make, local, fresh }) => {
  describe('submit', () => {
    it('runs a module task (B34)', () => {
      expect(make().submit(tasks.add, 2, 254).result()).toBe(256)
    })

    it('runs async tasks to completion', async () => {
      const ex = make()
      expect(ex.submit(tasks.sleep, 20, 'late').result(5000)).toBe('late')
    })

    it('refuses what is not a task', () => {
      const ex = make()
      expect(() => ex.submit(42 as unknown as () => void)).toThrow(TypeError)
      expect(() => ex.submit(Math.max)).toThrow(local ? /native or bound/ : /registered by name/)
    })

    it.runIf(local)('runs an inline function (B34), and names a variable it captured, saying what to do', async () => {
      const ex = make()
      expect(await ex.submit((a: number, b: number) => a ** b, 2, 8)).toBe(256)
      const factor = 3
      const f = ex.submit((x: number) => x * factor, 2)
      expect(() => f.result()).toThrow(/factor is not defined in the worker.*Pass factor as an argument/)
    })

    it('fails only the future whose argument cannot be sent, naming the position (B84)', () => {
      const ex = make()
      const good = ex.submit(tasks.identity, 1)
      const bad = ex.submit(tasks.identity as unknown as (...args: unknown[]) => unknown, 'x', () => 1)
      const alsoGood = ex.submit(tasks.identity, 2)
      expect(() => bad.result()).toThrow(local ? /argument 1 .*functions cannot be sent/ : /arguments\[1\] is a function/)
      expect([good.result(), alsoGood.result()]).toEqual([1, 2])
    })

    it('fails only the future whose result cannot be sent back (B85)', () => {
      const ex = make()
      const bad = ex.submit(tasks.returnFunction)
      const good = ex.submit(tasks.add, 1, 1)
      expect(() => bad.result()).toThrow(/result could not be sent back/)
      expect(good.result()).toBe(2)
    })

    it.runIf(local)('fails with the module path when a module or export is missing', () => {
      const ex = make()
      const missing = new URL('./fixtures/nope.ts', import.meta.url)
      expect(() => ex.submit(taskRef<() => void>(missing, 'add')).result()).toThrow(/cannot load task module .*nope\.ts/)
      expect(() => ex.submit((tasks as unknown as Record<string, TaskRef<() => void>>).nothing!).result()).toThrow(/has no export 'nothing'/)
    })

    it('keeps class, message, own properties and cause chain, with both stacks (B73)', () => {
      const ex = make()
      const error = ex.submit(tasks.customError).exception() as Error & { field: string; cause: Error & { code: string; cause: Error } }
      expect(error.name).toBe('ValidationError')
      expect(error.message).toBe('bad input')
      expect(error.stack).toMatch(/customError[\s\S]*--- submitted from ---[\s\S]*executor\.test\.ts/)
      expect(ex.submit(tasks.fail, 'nope').exception()).toBeInstanceOf(RangeError)
      expect(error.field).toBe('email')
      expect(error.cause.code).toBe('E_CUSTOM')
      expect(error.cause.cause).toBeInstanceOf(TypeError)
    })

    it('rejects bad options at once', () => {
      const ex = make()
      expect(() => ex.submitWith({ timeoutMs: -1 }, tasks.add, 1, 2)).toThrow(RangeError)
      expect(() => ex.submit(tasks.add, 1, 2).result(-5)).toThrow(RangeError)
    })
  })

  describe('map', () => {
    it('yields results in input order over several iterables, for any chunksize (B36, B74)', async () => {
      const ex = make()
      const xs = Array.from({ length: 100 }, (_, i) => i)
      const expected = xs.map((x) => x + x * 2)
      for (const chunksize of [1, 6, 40, 50]) {
        expect([...ex.map(tasks.add, xs, xs.map((x) => x * 2), { chunksize })]).toEqual(expected)
        const collected: number[] = []
        for await (const value of ex.map(tasks.add, xs, xs.map((x) => x * 2), { chunksize })) collected.push(value)
        expect(collected).toEqual(expected)
      }
    })

    it('yields earlier results, throws at the failing item, then ends (B37, B38)', () => {
      const ex = make()
      const results = ex.map(tasks.failOn, [0, 1, 2, 3], [2, 2, 2, 2])[Symbol.iterator]()
      expect(results.next()).toEqual({ done: false, value: 0 })
      expect(results.next()).toEqual({ done: false, value: 1 })
      expect(() => results.next()).toThrow('failed on 2')
      expect(results.next().done).toBe(true)
    })

    it.runIf(local)('cancels the calls not yet started once an item fails (B38)', async () => {
      const ex = make({ maxWorkers: 1 })
      const failOrSleep = (ms: number): number => {
        if (ms < 0) throw new Error('no negative sleeps')
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
        return ms
      }
      const results = ex.map(failOrSleep, [-1, 3000, 3000, 3000])[Symbol.iterator]()
      expect(() => results.next()).toThrow('no negative sleeps')
      const start = performance.now()
      await ex.shutdown()
      expect(performance.now() - start).toBeLessThan(5500) // at most the call already handed to the worker ran
    })

    it('times out from the call and cancels what has not started (B39, B40)', async () => {
      const ex = make({ maxWorkers: 1 })
      ex.submit(tasks.identity, 'warm up').result() // a child process takes longer to start than the timeout
      const results = ex.map(tasks.sleepSync, [0, 0, 3000, 3000, 3000], { timeout: 500 })[Symbol.iterator]()
      expect(results.next().value).toBe(0)
      expect(results.next().value).toBe(0)
      expect(() => results.next()).toThrow(TimeoutError)
      const start = performance.now()
      await ex.shutdown()
      expect(performance.now() - start).toBeLessThan(5500) // the two calls behind the running one never ran
    })

    it('yields results that were ready before the deadline, even when read after it (B41)', async () => {
      const ex = make()
      ex.submit(tasks.identity, 'warm up').result()
      // The deadline leaves a loaded machine time to run them (at 50 ms one run in three failed at load 8).
      const blocking = ex.map(tasks.identity, [1, 2], { timeout: 500 })
      const awaited = ex.map(tasks.identity, [3, 4], { timeout: 500 })
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect([...blocking]).toEqual([1, 2])
      const collected: unknown[] = []
      for await (const value of awaited) collected.push(value)
      expect(collected).toEqual([3, 4])
    })

    it('submits eagerly without iteration (B42) and ends on early close (B43)', () => {
      const ex = make()
      const log = join(mkdtempSync(join(tmpdir(), 'cf-')), 'log')
      ex.map(tasks.append, Array(20).fill(log), Array.from({ length: 20 }, (_, i) => String(i)))
      ex[Symbol.dispose]()
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(20)
      const it2 = make().map(tasks.identity, [1, 2, 3])[Symbol.iterator]()
      expect(it2.next().value).toBe(1)
      it2.return!()
      expect(it2.next().done).toBe(true)
    })

    it('with buffersize reads only that many chunks ahead, even from an endless input (B44-B46)', () => {
      const ex = make()
      let pulled = 0
      function* naturals(): Generator<number> {
        for (let i = 0; ; i++) {
          pulled++
          yield i
        }
      }
      const results = ex.map(tasks.identity, naturals(), { buffersize: 4 })[Symbol.iterator]()
      expect(pulled).toBe(4)
      expect([results.next().value, results.next().value, results.next().value]).toEqual([0, 1, 2])
      expect(pulled).toBe(7)
      results.return!()
      expect([...ex.map(tasks.identity, [], { buffersize: 2 })]).toEqual([])
      const xs = Array.from({ length: 10 }, (_, i) => i)
      expect([...ex.map(tasks.add, xs, naturals(), { buffersize: 3 })]).toEqual(xs.map((x) => 2 * x)) // the shortest input ends it
      expect(() => ex.map(tasks.identity, { buffersize: 2 } as never)).toThrow(/at least one iterable/)
      expect(() => ex.map(tasks.identity, [1], { buffersize: 0 })).toThrow(RangeError)
    })

    it('refuses a chunksize below 1 when map() is called, not while iterating (B75)', () => {
      const ex = make()
      for (const chunksize of [0, -1, 1.5]) expect(() => ex.map(tasks.identity, [1], { chunksize })).toThrow(/chunksize must be an integer greater than 0/)
    })

    it('fails the whole chunk when one item fails (B76)', () => {
      const ex = make()
      const results = [...ex.map(tasks.identity, [1, 2, 3, 4], { chunksize: 2 })]
      expect(results).toEqual([1, 2, 3, 4])
      const failing = ex.map(tasks.failOn, [1, 2, 3, 4], [4, 4, 4, 4], { chunksize: 2 })[Symbol.iterator]()
      expect(failing.next().value).toBe(1)
      expect(failing.next().value).toBe(2)
      expect(() => failing.next()).toThrow('failed on 4')
    })
  })

  describe('shutdown', () => {
    it('refuses new work after shutdown (B47) and is safe to call twice', async () => {
      const ex = make()
      await ex.shutdown()
      await ex.shutdown()
      expect(() => ex.submit(tasks.add, 1, 2)).toThrow(ExecutorShutdownError)
      expect(() => ex.submit(tasks.add, 1, 2)).toThrow('cannot schedule new futures after shutdown')
    })

    it('lets queued work finish (B48, B61)', async () => {
      const ex = make()
      const futures = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.identity, i))
      await ex.shutdown({ wait: false })
      await Promise.all([ex.shutdown(), ex.shutdown()])
      expect(futures.map((f) => f.result(0))).toEqual(Array.from({ length: 50 }, (_, i) => i))
    })

    it('cancels what has not started with cancelFutures (B49)', async () => {
      const ex = make()
      const futures = Array.from({ length: 50 }, () => ex.submit(tasks.sleepSync, 20))
      await ex.shutdown({ cancelFutures: true })
      const cancelled = futures.filter((f) => f.cancelled())
      expect(cancelled.length).toBeGreaterThan(20)
      expect(futures.every((f) => f.done())).toBe(true)
      for (const f of futures.filter((f) => !f.cancelled())) expect(f.exception()).toBeUndefined()
    })

    it('does not hang after submit and immediate cancel (B50)', async () => {
      const ex = make()
      const f = ex.submit(tasks.sleepSync, 10)
      f.cancel()
      await ex.shutdown()
      expect(f.done()).toBe(true)
    })

    it('using waits for the work and does not swallow errors (B51, B52)', () => {
      let results: unknown[] = []
      let futures: Array<Future<unknown>> = []
      expect(() => {
        using ex = fresh()
        results = [...ex.map(tasks.identity, [1, 2, 3])]
        futures = [ex.submit(tasks.sleepSync, 30)]
        throw new Error('from the block')
      }).toThrow('from the block')
      expect(results).toEqual([1, 2, 3])
      expect(futures[0]!.done()).toBe(true)
    })

    it('await using shuts down without blocking', async () => {
      let f
      {
        await using ex = fresh()
        f = ex.submit(tasks.sleep, 30, 'ok')
      }
      expect(f.result(0)).toBe('ok')
    })
  })
})

describe.each(localBackends)('$name', ({ make, Class, recycleAfter }) => {
  it('rejects a bad pool size or initializer at once', () => {
    for (const maxWorkers of [0, -1, 1.5]) expect(() => new Class({ maxWorkers })).toThrow(RangeError)
    expect(() => new Class({ initializer: 42 as never })).toThrow(TypeError)
  })

  describe('recycling', () => {
    it('replaces a worker after its quota of tasks without failing any, even inside blocking waits (B79)', () => {
      const ex = make({ maxWorkers: 1, ...recycleAfter(3) })
      const where = Array.from({ length: 7 }, () => ex.submit(tasks.whereAmI).result(10_000))
      expect(new Set(where.slice(0, 3)).size).toBe(1)
      expect(new Set(where.slice(3, 6)).size).toBe(1)
      expect(where[3]).not.toBe(where[0])
      expect(where[6]).not.toBe(where[3])
    })
  })
})
