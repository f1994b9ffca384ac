import { describe, expect, it, vi } from 'vitest'
import {
  BrokenExecutor, BrokenThreadPool, CancelledError, ExecutorShutdownError, taskRef, ThreadPoolExecutor, TimeoutError, WorkerLost, wait,
  type TaskRef,
} from 'concurrent-futures'
import { pool, tasks, until } from './helpers.js'

describe('submit', () => {
  it('runs a module task and an inline function (B34)', async () => {
    const ex = pool()
    expect(ex.submit(tasks.add, 2, 254).result()).toBe(256)
    expect(await ex.submit((a: number, b: number) => a ** b, 2, 8)).toBe(256)
  })

  it('runs async tasks to completion', async () => {
    const ex = pool()
    expect(ex.submit(tasks.sleep, 20, 'late').result(5000)).toBe('late')
  })

  it('refuses what is not a task', () => {
    const ex = pool()
    expect(() => ex.submit(42 as unknown as () => void)).toThrow(TypeError)
    expect(() => ex.submit(Math.max)).toThrow(/native or bound/)
  })

  it('names the captured variable of an inline function and says what to do', () => {
    const ex = pool()
    const factor = 3
    const f = ex.submit((x: number) => x * factor, 2)
    expect(() => f.result()).toThrow(/factor is not defined in the worker.*Pass factor as an argument/)
  })

  it('fails only the future whose argument cannot be cloned, naming the position', () => {
    const ex = pool()
    const good = ex.submit(tasks.identity, 1)
    const bad = ex.submit(tasks.identity as unknown as (...args: unknown[]) => unknown, 'x', () => 1)
    const alsoGood = ex.submit(tasks.identity, 2)
    expect(() => bad.result()).toThrow(/argument 1 .*functions cannot be sent/)
    expect([good.result(), alsoGood.result()]).toEqual([1, 2])
  })

  it('fails only the future whose result cannot be cloned', () => {
    const ex = pool()
    const bad = ex.submit(tasks.returnFunction)
    const good = ex.submit(tasks.add, 1, 1)
    expect(() => bad.result()).toThrow(/result could not be sent back/)
    expect(good.result()).toBe(2)
  })

  it('fails with the module path when a module or export is missing', () => {
    const ex = pool()
    const missing = new URL('./fixtures/nope.ts', import.meta.url)
    expect(() => ex.submit(taskRef<() => void>(missing, 'add')).result()).toThrow(/cannot load task module .*nope\.ts/)
    expect(() => ex.submit((tasks as unknown as Record<string, TaskRef<() => void>>).nothing!).result()).toThrow(/has no export 'nothing'/)
  })

  it('keeps class, message, own properties and cause chain, with both stacks', () => {
    const ex = pool()
    const error = ex.submit(tasks.customError).exception() as Error & { field: string; cause: Error & { code: string; cause: Error } }
    expect(error.name).toBe('ValidationError')
    expect(error.message).toBe('bad input')
    expect(error.field).toBe('email')
    expect(error.cause.code).toBe('E_CUSTOM')
    expect(error.cause.cause).toBeInstanceOf(TypeError)
    expect(error.stack).toMatch(/customError[\s\S]*--- submitted from ---[\s\S]*thread-pool\.test\.ts/)
    expect(ex.submit(tasks.fail, 'nope').exception()).toBeInstanceOf(RangeError)
  })

  it('moves transferables when asked, and shares SharedArrayBuffers', () => {
    const ex = pool()
    const buffer = new ArrayBuffer(1024)
    expect(ex.submitWith({ transfer: [buffer] }, tasks.byteLength, buffer).result()).toBe(1024)
    expect(buffer.byteLength).toBe(0)
    const copied = new ArrayBuffer(8)
    expect(ex.submit(tasks.byteLength, copied).result()).toBe(8)
    expect(copied.byteLength).toBe(8)
    const shared = new SharedArrayBuffer(4)
    wait(Array.from({ length: 10 }, () => ex.submit(tasks.bump, shared)))
    expect(new Int32Array(shared)[0]).toBe(10)
  })

  it('rejects bad options at once', () => {
    for (const maxWorkers of [0, -1, 1.5]) expect(() => new ThreadPoolExecutor({ maxWorkers })).toThrow(RangeError)
    expect(() => new ThreadPoolExecutor({ maxTasksPerWorker: 0 })).toThrow(RangeError)
    expect(() => new ThreadPoolExecutor({ initializer: 42 as never })).toThrow(TypeError)
    const ex = pool()
    expect(() => ex.submitWith({ timeoutMs: -1 }, tasks.add, 1, 2)).toThrow(RangeError)
    expect(() => ex.submit(tasks.add, 1, 2).result(-5)).toThrow(RangeError)
  })
})

describe('map', () => {
  it('yields results in input order over several iterables, for any chunksize (B36)', async () => {
    const ex = pool()
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
    const ex = pool()
    const results = ex.map((x: number) => { if (x === 2) throw new Error('two'); return x }, [0, 1, 2, 3])[Symbol.iterator]()
    expect(results.next()).toEqual({ done: false, value: 0 })
    expect(results.next()).toEqual({ done: false, value: 1 })
    expect(() => results.next()).toThrow('two')
    expect(results.next().done).toBe(true)
  })

  it('times out from the call and cancels what has not started (B39, B40)', () => {
    const ex = pool({ maxWorkers: 1 })
    const results = ex.map(tasks.sleepSync, [0, 0, 3000, 3000, 3000], { timeout: 500 })[Symbol.iterator]()
    expect(results.next().value).toBe(0)
    expect(results.next().value).toBe(0)
    expect(() => results.next()).toThrow(TimeoutError)
  })

  it('submits eagerly without iteration (B42) and ends on early close (B43)', () => {
    const ex = pool()
    const shared = new SharedArrayBuffer(4)
    const results = ex.map(tasks.bump, Array(20).fill(shared))
    ex[Symbol.dispose]()
    expect(new Int32Array(shared)[0]).toBe(20)
    const it2 = pool().map(tasks.identity, [1, 2, 3])[Symbol.iterator]()
    expect(it2.next().value).toBe(1)
    it2.return!()
    expect(it2.next().done).toBe(true)
    void results
  })

  it('with buffersize reads only that many chunks ahead, even from an endless input (B44-B46)', () => {
    const ex = pool()
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
    expect(() => ex.map(tasks.identity, [1], { buffersize: 0 })).toThrow(RangeError)
    expect(() => ex.map(tasks.identity, [1], { chunksize: 0 })).toThrow(RangeError)
  })

  it('fails the whole chunk when one item fails', () => {
    const ex = pool()
    const results = [...ex.map((x: number) => x, [1, 2, 3, 4], { chunksize: 2 })]
    expect(results).toEqual([1, 2, 3, 4])
    const failing = ex.map((x: number) => { if (x === 4) throw new Error('four'); return x }, [1, 2, 3, 4], { chunksize: 2 })[Symbol.iterator]()
    expect(failing.next().value).toBe(1)
    expect(failing.next().value).toBe(2)
    expect(() => failing.next()).toThrow('four')
  })
})

describe('shutdown', () => {
  it('refuses new work after shutdown (B47) and is safe to call twice', async () => {
    const ex = pool()
    await ex.shutdown()
    await ex.shutdown()
    expect(() => ex.submit(tasks.add, 1, 2)).toThrow(ExecutorShutdownError)
    expect(() => ex.submit(tasks.add, 1, 2)).toThrow('cannot schedule new futures after shutdown')
  })

  it('lets queued work finish (B48, B61)', async () => {
    const ex = pool()
    const futures = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.identity, i))
    await ex.shutdown({ wait: false })
    await Promise.all([ex.shutdown(), ex.shutdown()])
    expect(futures.map((f) => f.result(0))).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('cancels what has not started with cancelFutures (B49)', async () => {
    const ex = pool()
    const futures = Array.from({ length: 50 }, () => ex.submit(tasks.sleepSync, 20))
    await ex.shutdown({ cancelFutures: true })
    const cancelled = futures.filter((f) => f.cancelled())
    expect(cancelled.length).toBeGreaterThan(20)
    expect(futures.every((f) => f.done())).toBe(true)
    for (const f of futures.filter((f) => !f.cancelled())) expect(f.exception()).toBeUndefined()
  })

  it('does not hang after submit and immediate cancel (B50)', async () => {
    const ex = pool()
    const f = ex.submit(tasks.sleepSync, 10)
    f.cancel()
    await ex.shutdown()
    expect(f.done()).toBe(true)
  })

  it('using waits for the work and does not swallow errors (B51, B52)', () => {
    let results: unknown[] = []
    let futures: Array<ReturnType<ThreadPoolExecutor['submit']>> = []
    expect(() => {
      using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
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
      await using ex = new ThreadPoolExecutor({ maxWorkers: 1 })
      f = ex.submit(tasks.sleep, 30, 'ok')
    }
    expect(f.result(0)).toBe('ok')
  })
})

describe('workers', () => {
  it('never runs more than maxWorkers threads (B57) and reuses an idle one (B58)', () => {
    const ex = pool({ maxWorkers: 3 })
    const futures = Array.from({ length: 45 }, () => ex.submit(tasks.sleepSync, 5))
    wait(futures)
    const sequential = new Set(Array.from({ length: 3 }, () => ex.submit(tasks.thread).result().threadId))
    expect(sequential.size).toBe(1)
    const ex2 = pool({ maxWorkers: 3 })
    const ids = new Set(wait(Array.from({ length: 45 }, () => ex2.submit(tasks.thread))).done)
    const threads = new Set([...ids].map((f) => f.result().threadId))
    expect(threads.size).toBeLessThanOrEqual(3)
  })

  it('starts threads as blocked work needs them (B59) and names them (B60)', () => {
    const ex = pool({ maxWorkers: 5, threadNamePrefix: 'SpecialPool' })
    const names = Array.from({ length: 3 }, () => ex.submitWith({}, tasks.thread))
    const blockers = Array.from({ length: 3 }, () => ex.submit(tasks.sleepSync, 100))
    wait([...names, ...blockers])
    for (const f of names) expect(f.result().name).toMatch(/^SpecialPool_[0-4]$/)
    expect(pool().submit(tasks.thread).result().name).toMatch(/^ThreadPoolExecutor-\d+_[0-4]$/)
  })

  it('runs the initializer with initargs in every worker first (B64)', () => {
    const ex = pool({ maxWorkers: 2, initializer: tasks.init, initargs: ['a', 1] })
    const states = wait(Array.from({ length: 8 }, () => ex.submit(tasks.initState))).done
    for (const f of states) expect(f.result()).toEqual(['a', 1])
  })

  it('breaks the pool when the initializer fails (B65, B66)', () => {
    const ex = pool({ maxWorkers: 2, initializer: tasks.failingInit })
    const futures = Array.from({ length: 5 }, () => ex.submit(tasks.add, 1, 1))
    for (const f of futures) {
      const error = f.exception(10_000) as Error
      expect(error).toBeInstanceOf(BrokenThreadPool)
      expect(error).toBeInstanceOf(BrokenExecutor)
      expect(error.message).toBe('A thread initializer failed, the thread pool is not usable anymore')
      expect((error.cause as Error).message).toBe('error in initializer')
    }
    expect(() => ex.submit(tasks.add, 1, 1)).toThrow(BrokenThreadPool)
  })

  it('recycles a worker after maxTasksPerWorker tasks, even inside blocking waits', () => {
    const ex = pool({ maxWorkers: 1, maxTasksPerWorker: 3 })
    const ids = Array.from({ length: 7 }, () => ex.submit(tasks.thread).result(10_000).threadId)
    expect(new Set(ids.slice(0, 3)).size).toBe(1)
    expect(new Set(ids.slice(3, 6)).size).toBe(1)
    expect(ids[3]).not.toBe(ids[0])
    expect(ids[6]).not.toBe(ids[3])
  })

  it('stops idle workers after idleTimeoutMs', async () => {
    const ex = pool({ maxWorkers: 1, idleTimeoutMs: 20 })
    const first = ex.submit(tasks.thread).result().threadId
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(ex.submit(tasks.thread).result().threadId).not.toBe(first)
  })
})

describe('a worker that dies', () => {
  it('fails the task it ran with WorkerLost, reruns the ones it had not started, and is replaced', () => {
    const ex = pool({ maxWorkers: 1 })
    const before = ex.submit(tasks.add, 1, 1)
    const dying = ex.submit(tasks.exit, 3)
    const after = Array.from({ length: 5 }, (_, i) => ex.submit(tasks.identity, i))
    expect(before.result()).toBe(2)
    const error = dying.exception(10_000) as WorkerLost
    expect(error).toBeInstanceOf(WorkerLost)
    expect(error.exitCode).toBe(3)
    expect(after.map((f) => f.result(10_000))).toEqual([0, 1, 2, 3, 4])
  })

  it('reports a throw outside any task as the cause', () => {
    const ex = pool({ maxWorkers: 1 })
    const error = ex.submit(tasks.throwWhileWaiting).exception(10_000) as WorkerLost
    expect(error).toBeInstanceOf(WorkerLost)
    expect((error.cause as Error).message).toBe('thrown outside any task')
    expect(ex.submit(tasks.add, 2, 2).result(10_000)).toBe(4)
  })

  it('out of memory under resourceLimits fails only the running task', async () => {
    const ex = pool({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
    const hog = ex.submit(tasks.allocateForever)
    const error = await hog.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(WorkerLost)
    expect(String((error as Error).cause)).toMatch(/memory/i)
    expect(await ex.submit(tasks.add, 1, 2)).toBe(3)
  })
})

describe('cancel and interrupt', () => {
  it('cancels a task already handed to a worker until the worker starts it', async () => {
    const ex = pool({ maxWorkers: 1 })
    const blocker = ex.submit(tasks.sleepSync, 300)
    const queued = ex.submit(tasks.identity, 'never')
    // Both were posted to the one worker together; the second waits behind the first.
    await until(() => blocker.running())
    expect(queued.running()).toBe(false)
    expect(queued.cancel()).toBe(true)
    expect(blocker.cancel()).toBe(false)
    expect(() => queued.result()).toThrow(CancelledError)
    expect(blocker.result()).toBe(300)
  })

  it('interrupts a running task at timeoutMs through checkInterrupt(), keeping the worker', () => {
    const ex = pool({ maxWorkers: 1 })
    const spin = ex.submitWith({ timeoutMs: 50 }, tasks.spinUntilInterrupted)
    const id = ex.submit(tasks.thread)
    expect(() => spin.result(10_000)).toThrow(/ran longer than its timeoutMs \(50 ms\)/)
    expect(spin.exception()).toBeInstanceOf(TimeoutError)
    expect(id.result().threadId).toBe(ex.submit(tasks.thread).result().threadId)
  })

  it('aborts the signal an async task holds', async () => {
    const ex = pool({ maxWorkers: 1 })
    const controller = new AbortController()
    const f = ex.submitWith({ signal: controller.signal }, tasks.waitForAbort)
    await until(() => f.running())
    controller.abort(new Error('user gave up'))
    expect(await f).toBe('aborted: user gave up')
  })

  it('terminates a task that ignores the interruption after the grace period; only its future fails', async () => {
    const ex = pool({ maxWorkers: 1, interruptGraceMs: 50 })
    const controller = new AbortController()
    const stuck = ex.submitWith({ signal: controller.signal }, tasks.spinForever)
    const queued = ex.submit(tasks.add, 1, 1)
    await until(() => stuck.running())
    controller.abort(new Error('stop'))
    await expect(stuck).rejects.toThrow('stop')
    expect(await queued).toBe(2)
  })

  it('cancels a pending task when its signal aborts, and an already aborted signal cancels at once', async () => {
    const ex = pool({ maxWorkers: 1 })
    ex.submit(tasks.sleepSync, 100)
    const controller = new AbortController()
    const f = ex.submitWith({ signal: controller.signal }, tasks.add, 1, 2)
    controller.abort()
    expect(f.cancelled()).toBe(true)
    expect(ex.submitWith({ signal: AbortSignal.abort() }, tasks.add, 1, 2).cancelled()).toBe(true)
  })
})

describe('blocking waits', () => {
  it('never deadlock on work queued behind busy workers', () => {
    const ex = pool({ maxWorkers: 1 })
    const futures = Array.from({ length: 100 }, (_, i) => ex.submit(tasks.identity, i))
    expect(futures[99]!.result(10_000)).toBe(99)
    for (let i = 0; i < 200; i++) expect(ex.submit(tasks.add, i, 1).result(10_000)).toBe(i + 1)
  })

  it('throw DeadlockError instead of hanging when nothing can complete the future', async () => {
    const { Future, DeadlockError } = await import('concurrent-futures')
    expect(() => new Future().result()).toThrow(DeadlockError)
  })
})

describe('every future reaches a final state under random faults', () => {
  it('across random mixes of work, failures, crashes, cancels and timeouts', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    let seed = 12345
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (let round = 0; round < 4; round++) {
      const ex = pool({ maxWorkers: 2, interruptGraceMs: 20, maxTasksPerWorker: 7 + round })
      const futures = Array.from({ length: 60 }, () => {
        const r = random()
        if (r < 0.4) return ex.submit(tasks.identity, r)
        if (r < 0.55) return ex.submit(tasks.fail, 'x')
        if (r < 0.62) return ex.submit(tasks.exit, 1)
        if (r < 0.7) return ex.submitWith({ timeoutMs: 10 }, tasks.spinForever)
        if (r < 0.8) return ex.submit(tasks.sleep, 5, r)
        const f = ex.submit(tasks.sleepSync, 2)
        if (r < 0.9) f.cancel()
        return f
      })
      const { notDone } = wait(futures, { timeout: 20_000 })
      expect(notDone.size).toBe(0)
      await ex.shutdown()
    }
    errors.mockRestore()
  })
})
