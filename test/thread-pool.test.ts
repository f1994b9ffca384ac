import { describe, expect, it, vi } from 'vitest'
import {
  BrokenExecutor, BrokenThreadPool, CancelledError, ThreadPoolExecutor, TimeoutError, WorkerLost, wait,
} from 'concurrent-futures'
import { pool, submitRandomMix, tasks, until } from './helpers.js'

describe('threads', () => {
  it('a batch sent again after one result could not be cloned sends the copy it checked, not the live result', () => {
    const ex = pool({ maxWorkers: 1 })
    ex.submit(tasks.flakyGetter).result(10_000) // the module and both functions loaded: the next two share a batch
    ex.submit(tasks.returnFunction).exception(10_000)
    const flaky = ex.submit(tasks.flakyGetter) // read once by the failed post, once by the check: a third read throws
    const bad = ex.submit(tasks.returnFunction) // same batch: its clone fails the first post
    expect(() => bad.result(10_000)).toThrow(/result could not be sent back/)
    expect(flaky.result(10_000)).toEqual({ value: 2 })
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

  it('rejects a zero maxTasksPerWorker at once', () => {
    expect(() => new ThreadPoolExecutor({ maxTasksPerWorker: 0 })).toThrow(RangeError)
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

  it('out of memory while this thread blocks in result(): the wait ends with WorkerLost, not a hang', () => {
    const ex = pool({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
    expect(ex.submit(tasks.add, 1, 1).result(10_000)).toBe(2)
    // 20 s instead of forever, so that a regression fails here rather than hanging the run.
    const error = ex.submit(tasks.allocateForever).exception(20_000)
    expect(error).toBeInstanceOf(WorkerLost)
    expect((error as Error).message).toMatch(/ended abruptly \(out of memory, or killed\)/)
    expect(ex.submit(tasks.add, 2, 3).result(10_000)).toBe(5)
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
    for (let round = 0; round < 4; round++) {
      const ex = pool({ maxWorkers: 2, interruptGraceMs: 20, maxTasksPerWorker: 7 + round })
      const futures = submitRandomMix(ex, 60, 12345 + round)
      const { notDone } = wait(futures, { timeout: 20_000 })
      expect(notDone.size).toBe(0)
      await ex.shutdown()
    }
    errors.mockRestore()
  }, 90_000) // four rounds of crashes and restarts: 15-28 s alone, past 30 s at load 8
})
