import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import * as concurrent from 'concurrent-futures'
import {
  CancelledError, FIRST_COMPLETED, FIRST_EXCEPTION, InvalidStateError, LoopFuture, TimeoutError, asCompleted, callAt, callLater,
  callSoon, ensureFuture, gather, runInExecutor, runInExecutorWith, setDefaultExecutor, shield, shutdownDefaultExecutor, sleep, time,
  toThread, wait, waitFor, wrapFuture,
} from 'concurrent-futures/loop'
import { backends, finished, localBackends, pool, tasks, until } from './helpers.js'

const gated = concurrent.fromModule<typeof import('./fixtures/gate.js')>(new URL('./fixtures/gate.ts', import.meta.url))
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('LoopFuture', () => {
  it('cancel() is false once done or cancelled (B110)', () => {
    const cancelled = new LoopFuture()
    expect(cancelled.cancel()).toBe(true)
    expect(cancelled.cancel()).toBe(false)
    const done = new LoopFuture<number>()
    done.setResult(1)
    expect(done.cancel()).toBe(false)
    expect(done.result()).toBe(1)
  })

  it('result() and exception() of a pending future throw InvalidStateError (B111)', () => {
    const f = new LoopFuture()
    expect(() => f.result()).toThrow(InvalidStateError)
    expect(() => f.result()).toThrow('Result is not set.')
    expect(() => f.exception()).toThrow('Exception is not set.')
    f.setException(new RangeError('x'))
    expect(f.exception()).toBeInstanceOf(RangeError)
    expect(() => f.result()).toThrow(RangeError)
    expect(() => f.setResult(1)).toThrow(InvalidStateError)
  })

  it('cancel(msg) puts the message in a new CancelledError each time (B112)', async () => {
    const f = new LoopFuture()
    f.cancel('stop it')
    let first: unknown
    try { f.result() } catch (error) { first = error }
    expect(first).toBeInstanceOf(CancelledError)
    expect((first as Error).message).toBe('stop it')
    expect(() => f.exception()).toThrow('stop it')
    await expect(f).rejects.toThrow(CancelledError)
    let second: unknown
    try { f.result() } catch (error) { second = error }
    expect(second).not.toBe(first)
  })

  it('callbacks never run synchronously, run in order, even when added after done (B113)', async () => {
    const f = new LoopFuture<number>()
    const bag: string[] = []
    f.addDoneCallback(() => bag.push('a'))
    f.addDoneCallback(() => bag.push('b'))
    f.setResult(1)
    f.addDoneCallback(() => bag.push('c'))
    expect(bag).toEqual([])
    await tick()
    expect(bag).toEqual(['a', 'b', 'c'])
  })

  it('a throwing callback is reported and the others still run', async () => {
    const report = vi.spyOn(console, 'error').mockImplementation(() => {})
    const f = new LoopFuture()
    const ran: number[] = []
    f.addDoneCallback(() => { throw new Error('bad callback') })
    f.addDoneCallback(() => ran.push(2))
    f.setResult(undefined)
    await tick()
    expect(ran).toEqual([2])
    expect(report).toHaveBeenCalledWith(expect.stringContaining('Exception in callback'), expect.objectContaining({ message: 'bad callback' }))
    report.mockRestore()
  })

  it('removeDoneCallback removes every registration and returns the count (B114)', async () => {
    const f = new LoopFuture()
    const calls: string[] = []
    const a = (): number => calls.push('a')
    const b = (): number => calls.push('b')
    f.addDoneCallback(a)
    f.addDoneCallback(b)
    f.addDoneCallback(a)
    expect(f.removeDoneCallback(a)).toBe(2)
    expect(f.removeDoneCallback(a)).toBe(0)
    f.setResult(1)
    await tick()
    expect(calls).toEqual(['b'])
  })

  it('setException(ErrorClass) stores an instance (B115)', () => {
    const f = new LoopFuture()
    f.setException(RangeError)
    expect(f.exception()).toBeInstanceOf(RangeError)
  })

  it('works with await, Promise.all, race and allSettled', async () => {
    const a = new LoopFuture<number>()
    const b = new LoopFuture<string>()
    setTimeout(() => { a.setResult(1); b.setException(new Error('b')) }, 5)
    expect(await Promise.race([a, new Promise(() => {})])).toBe(1)
    const settled = await Promise.allSettled([a, b])
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected'])
    await expect(Promise.all([a, b])).rejects.toThrow('b')
  })

  it('a failed LoopFuture nobody awaits is not an unhandled rejection', async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    new LoopFuture().setException(new Error('ignored'))
    await sleep(10)
    process.off('unhandledRejection', unhandled)
    expect(unhandled).not.toHaveBeenCalled()
  })
})

describe('wrapFuture', () => {
  it('returns a LoopFuture unchanged (B116) and refuses what is not a future', () => {
    const f = new LoopFuture()
    expect(wrapFuture(f)).toBe(f)
    expect(() => wrapFuture(42 as never)).toThrow(/wrapFuture expects a concurrent Future or a LoopFuture, got 42/)
    expect(() => wrapFuture(Promise.resolve(1) as never)).toThrow(TypeError)
  })

  it.each(backends)('delivers a result computed by a $name worker, once (B117)', async ({ make }) => {
    const ex = make()
    const wrapped = wrapFuture(ex.submit(tasks.pid))
    const callbacks = vi.fn()
    wrapped.addDoneCallback(callbacks)
    const value = await wrapped
    await tick()
    expect(callbacks).toHaveBeenCalledTimes(1)
    expect(typeof value).toBe('number')
    expect(wrapped.result()).toBe(value)
  })

  it('settles in the same turn when the concurrent future is already done (B122, differs)', () => {
    expect(wrapFuture(finished(7)).result()).toBe(7)
  })

  it('cancelling the LoopFuture cancels a pending concurrent future at once, and the work never runs (B119)', async () => {
    const ex = pool({ maxWorkers: 1 })
    const log = join(mkdtempSync(join(tmpdir(), 'cf-')), 'log')
    const blocker = ex.submit(tasks.sleepSync, 100)
    const queued = ex.submit(tasks.append, log, 'ran')
    const wrapped = wrapFuture(queued)
    await until(() => blocker.running())
    expect(wrapped.cancel()).toBe(true)
    expect(queued.cancelled()).toBe(true)
    await blocker
    await ex.shutdown()
    expect(existsSync(log)).toBe(false)
  })

  it('cancelling the LoopFuture of a finished or running one leaves its result (B120)', async () => {
    const ex = pool()
    const running = ex.submit(tasks.sleepSync, 50)
    await until(() => running.running())
    const wrapped = wrapFuture(running)
    expect(wrapped.cancel()).toBe(true)
    expect(await running).toBe(50)
    expect(wrapped.cancelled()).toBe(true)
    const done = finished(3)
    expect(wrapFuture(done).cancel()).toBe(false)
    expect(done.result()).toBe(3)
  })

  it('cancelling the concurrent future cancels the LoopFuture (B121)', () => {
    const cf = new concurrent.Future<number>()
    const wrapped = wrapFuture(cf)
    cf.cancel()
    expect(wrapped.cancelled()).toBe(true)
  })

  it("converts exactly the concurrent CancelledError and InvalidStateError, keeping the stack; others pass through (B124, B125)", () => {
    const cancelled = new concurrent.Future()
    const original = new concurrent.CancelledError('from the worker')
    cancelled.setException(original)
    const converted = wrapFuture(cancelled).exception() as Error
    expect(converted).toBeInstanceOf(CancelledError)
    expect(converted.message).toBe('from the worker')
    expect(converted.stack).toBe(original.stack)
    expect(wrapFuture(cancelled).cancelled()).toBe(false)
    const invalid = new concurrent.Future()
    invalid.setException(new concurrent.InvalidStateError('x'))
    expect(wrapFuture(invalid).exception()).toBeInstanceOf(InvalidStateError)
    const other = new concurrent.Future()
    const error = new TypeError('kept')
    other.setException(error)
    expect(wrapFuture(other).exception()).toBe(error)
  })

  it('an aborted signal cancels the LoopFuture and the pending concurrent future', () => {
    const cf = new concurrent.Future()
    const controller = new AbortController()
    const wrapped = wrapFuture(cf, { signal: controller.signal })
    controller.abort(new Error('no longer needed'))
    expect(wrapped.cancelled()).toBe(true)
    expect(() => wrapped.result()).toThrow('no longer needed')
    expect(cf.cancelled()).toBe(true)
  })
})

describe('runInExecutor', () => {
  it.each(backends)('runs on a $name and resolves the LoopFuture; submit errors throw at once', async ({ make }) => {
    const ex = make()
    const f = runInExecutor(ex, tasks.add, 2, 3)
    expect(f).toBeInstanceOf(LoopFuture)
    expect(await f).toBe(5)
    await ex.shutdown()
    expect(() => runInExecutor(ex, tasks.add, 1, 1)).toThrow(concurrent.ExecutorShutdownError)
    expect(() => runInExecutor({} as never, tasks.add, 1, 1)).toThrow(/expects an Executor or null/)
  })

  it('with a signal: cancels what has not started, interrupts what runs', async () => {
    const ex = pool({ maxWorkers: 1, interruptGraceMs: 50 })
    await runInExecutor(ex, tasks.add, 0, 0) // the worker is up, so the next task starts at once
    const controller = new AbortController()
    const running = runInExecutorWith(ex, { signal: controller.signal }, tasks.spinForever)
    const queued = runInExecutorWith(ex, { signal: controller.signal }, tasks.add, 1, 1)
    await sleep(50)
    controller.abort(new Error('stop'))
    expect(queued.cancelled()).toBe(true)
    await expect(running).rejects.toThrow('stop')
  })
})

describe('backpressure (maxQueued)', () => {
  it.each(localBackends)('submit throws QueueFullError on a full $name queue; runInExecutor waits for room instead', async ({ make }) => {
    const ex = make({ maxWorkers: 1, maxQueued: 2 })
    await runInExecutor(ex, tasks.add, 0, 0) // the worker is up and takes work at once
    const first = ex.submit(tasks.sleepSync, 100)
    await until(() => first.running())
    const queued = [ex.submit(tasks.identity, 1), ex.submit(tasks.identity, 2)]
    expect(ex.hasRoom()).toBe(false)
    expect(() => ex.submit(tasks.identity, 3)).toThrow(concurrent.QueueFullError)
    expect(() => ex.submit(tasks.identity, 3)).toThrow(/2 tasks are already waiting for a worker \(maxQueued\)/)
    const waiting = Array.from({ length: 4 }, (_, i) => runInExecutor(ex, tasks.identity, 10 + i))
    const cancelledWhileWaiting = runInExecutor(ex, tasks.identity, 99)
    expect(cancelledWhileWaiting.cancel()).toBe(true)
    expect(await gather(first, ...queued, ...waiting)).toEqual([100, 1, 2, 10, 11, 12, 13])
  })

  it.each(localBackends)('a task cancelled while it waits frees its place on a full $name queue, whatever its priority', async ({ make }) => {
    const ex = make({ maxWorkers: 1, maxQueued: 3 })
    const gate = join(mkdtempSync(join(tmpdir(), 'cf-room-')), 'open')
    await ex.submit(tasks.sleepSync, 5) // a worker whose tasks take this long holds two: the one it runs and the next
    const blocker = ex.submit(gated.holdUntilExists, gate)
    const next = ex.submit(tasks.identity, 0)
    try {
      await until(() => blocker.running())
      const queued = [ex.submitWith({ priority: 5 }, tasks.identity, 1), ex.submitWith({ priority: 9 }, tasks.identity, 2), ex.submit(tasks.identity, 3)]
      await tick() // dispatched: the worker's window is full, so all three wait in the queue
      expect(ex.hasRoom()).toBe(false)
      const room = ex.whenRoom()
      expect(queued[1]!.cancel()).toBe(true) // the last in line, in a lane dispatch has not reached
      await room
      expect(ex.hasRoom()).toBe(true)
      const late = ex.submit(tasks.identity, 4)
      expect(() => ex.submit(tasks.identity, 5)).toThrow(concurrent.QueueFullError)
      for (const future of queued) future.cancel()
      expect([ex.submit(tasks.identity, 6), ex.submit(tasks.identity, 7)]).toHaveLength(2)
      expect([late.cancelled(), next.cancelled()]).toEqual([false, false])
    } finally {
      writeFileSync(gate, '') // however the test fails: the pool's shutdown waits for its worker
    }
  })

  it('refuses a maxQueued below 1', () => {
    expect(() => pool({ maxQueued: 0 })).toThrow(RangeError)
  })
})

describe('the default executor', () => {
  // Runs last in this file: shutdownDefaultExecutor() is for good.
  it('is a lazily started thread pool named asyncio_N (B126); setDefaultExecutor checks its argument (B128, B129)', async () => {
    expect((await runInExecutor(null, tasks.thread)).name).toMatch(/^asyncio_\d+$/)
    expect(() => setDefaultExecutor(new concurrent.Future() as never)).toThrow('executor must be ThreadPoolExecutor instance')
    class Custom extends concurrent.ThreadPoolExecutor {}
    const custom = new Custom({ maxWorkers: 1, threadNamePrefix: 'custom' })
    const lazy = setDefaultExecutor(custom) // custom is shut down by the next test, with shutdownDefaultExecutor()
    expect(lazy).toBeInstanceOf(concurrent.ThreadPoolExecutor)
    await lazy!.shutdown()
    expect((await toThread(tasks.thread)).name).toBe('custom_0')
    const attempts = join(mkdtempSync(join(tmpdir(), 'cf-')), 'attempts')
    await expect(toThread(tasks.flaky, attempts, 5)).rejects.toThrow('attempt 1 fails') // B134: passed on, called once
    expect(readFileSync(attempts, 'utf8')).toBe('x')
  })

  it('after shutdownDefaultExecutor, null throws and explicit executors still work (B127); a slow join warns (B130)', async () => {
    const slow = toThread(tasks.sleepSync, 300)
    // Caught here rather than printed: a green run prints only the test report.
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    let calls: unknown[][]
    try {
      await shutdownDefaultExecutor(20)
      await tick()
    } finally {
      calls = [...warning.mock.calls]
      warning.mockRestore()
    }
    expect(calls).toContainEqual([expect.stringContaining('did not finish its work within 20 ms'), 'RuntimeWarning'])
    expect(() => runInExecutor(null, tasks.add, 1, 1)).toThrow('Executor shutdown has been called')
    expect(() => toThread(tasks.add, 1, 1)).toThrow('Executor shutdown has been called')
    expect(await runInExecutor(pool(), tasks.add, 1, 1)).toBe(2)
    expect(await slow).toBe(300)
  })
})

describe('gather', () => {
  it('gives results in argument order from promises, LoopFutures and concurrent Futures; nothing gives []', async () => {
    const ex = pool()
    const lf = sleep(5, 'slept')
    const results = await gather(ex.submit(tasks.sleep, 20, 'worker'), lf, Promise.resolve(3), lf)
    expect(results).toEqual(['worker', 'slept', 3, 'slept'])
    expect(await gather()).toEqual([])
  })

  it('fails with the first error while the others keep running, or returns errors in place', async () => {
    const slow = sleep(30, 'slow')
    await expect(gather(Promise.reject(new Error('first')), slow)).rejects.toThrow('first')
    expect(slow.done()).toBe(false)
    const cancelled = new LoopFuture()
    cancelled.cancel()
    const results = await gather(Promise.reject(new Error('x')), slow, cancelled, { returnExceptions: true })
    expect(results[0]).toBeInstanceOf(Error)
    expect(results[1]).toBe('slow')
    expect(results[2]).toBeInstanceOf(CancelledError)
  })

  it('cancel() cancels the children not done and the whole fails with CancelledError', async () => {
    const a = sleep(1000)
    const done = new LoopFuture<number>()
    done.setResult(1)
    const outer = gather(a, done)
    expect(outer.cancel()).toBe(true)
    expect(a.cancelled()).toBe(true)
    await expect(outer).rejects.toThrow(CancelledError)
    expect(outer.cancel()).toBe(false)
  })

  it('refuses a non-awaitable, naming it', () => {
    expect(() => gather(42 as never)).toThrow(/got 42/)
  })
})

describe('wait and asCompleted (loop side)', () => {
  it('splits into done and pending; never throws on timeout, never cancels', async () => {
    const fast = sleep(5, 'fast')
    const slow = sleep(2000, 'slow')
    const { done, pending } = await wait([fast, slow], { timeout: 50 })
    expect([...done]).toEqual([fast])
    expect([...pending]).toEqual([slow])
    expect(slow.cancelled()).toBe(false)
    slow.cancel()
  })

  it('FIRST_COMPLETED and FIRST_EXCEPTION return early; cancelled counts as done', async () => {
    const slow = sleep(2000)
    const failing = Promise.reject(new Error('x'))
    expect([...(await wait([slow, failing], { returnWhen: FIRST_EXCEPTION })).done]).toEqual([failing])
    const cancelled = new LoopFuture()
    cancelled.cancel()
    expect([...(await wait([slow, cancelled], { returnWhen: FIRST_COMPLETED })).done]).toEqual([cancelled])
    slow.cancel()
  })

  it('rejects empty or bad input clearly', async () => {
    await expect(wait([])).rejects.toThrow('the set of futures is empty')
    await expect(wait([sleep(1)], { returnWhen: 'SOMETIMES' as never })).rejects.toThrow(/wait\(\) option returnWhen must be 'FIRST_COMPLETED' or 'FIRST_EXCEPTION' or 'ALL_COMPLETED', got 'SOMETIMES'/)
    await expect(wait(sleep(1) as never)).rejects.toThrow(/expects an iterable of awaitables/)
  })

  it('asCompleted yields results as they complete, a failure at its turn, then times out from the call', async () => {
    const a = sleep(30, 'a')
    const b = sleep(5, 'b')
    const order: string[] = []
    for await (const value of asCompleted([a, b, a])) order.push(value)
    expect(order).toEqual(['b', 'a'])
    const never = new LoopFuture()
    const failing = Promise.reject(new Error('failed first'))
    const iterator = asCompleted([sleep(5, 'soon'), failing, never], { timeout: 40 })
    await expect(iterator.next()).rejects.toThrow('failed first')
    expect((await iterator.next()).value).toBe('soon')
    await expect(iterator.next()).rejects.toThrow(TimeoutError)
  })
})

describe('waitFor and shield', () => {
  it('times out, cancelling what it waits for, including a concurrent task not yet started', async () => {
    const ex = pool({ maxWorkers: 1 })
    const blocker = ex.submit(tasks.sleepSync, 200)
    const queued = ex.submit(tasks.add, 1, 1)
    await expect(waitFor(queued, 20)).rejects.toThrow(TimeoutError)
    expect(queued.cancelled()).toBe(true)
    expect(await waitFor(blocker, 5_000)).toBe(200)
    expect(await waitFor(Promise.resolve('no timeout'))).toBe('no timeout')
  })

  it('waitFor(done, 0) returns its result (B137); a negative timeout is a RangeError', async () => {
    const done = new LoopFuture<number>()
    done.setResult(4)
    expect(await waitFor(done, 0)).toBe(4)
    expect(() => waitFor(done, -1)).toThrow(RangeError)
  })

  it('cancels the inner when a timeout ends it, after which the inner is done (B136)', async () => {
    const inner = sleep(1000)
    await expect(waitFor(inner, 10)).rejects.toThrow(TimeoutError)
    expect(inner.cancelled()).toBe(true)
  })

  it('an aborted signal cancels the inner and rejects with the reason', async () => {
    const inner = sleep(1000)
    const controller = new AbortController()
    const waiting = waitFor(inner, undefined, { signal: controller.signal })
    controller.abort(new Error('user left'))
    await expect(waiting).rejects.toThrow('user left')
    expect(inner.cancelled()).toBe(true)
  })

  it('shield: cancelling the outer leaves the inner; cancelling the inner cancels the outer; done is returned itself (B138)', async () => {
    const inner = sleep(20, 'kept')
    const outer = shield(inner)
    expect(outer.cancel()).toBe(true)
    expect(await inner).toBe('kept')
    const inner2 = sleep(1000)
    const outer2 = shield(inner2)
    inner2.cancel()
    expect(outer2.cancelled()).toBe(true)
    const done = ensureFuture(Promise.resolve(1))
    await done
    expect(shield(done)).toBe(done)
  })
})

describe('timers', () => {
  it('callSoon, callLater and callAt run in time order; a cancelled handle never runs', async () => {
    const calls: string[] = []
    const start = time()
    const at = callAt(start + 20, (x: string) => calls.push(x), 'at')
    expect(at.when()).toBe(start + 20)
    callLater(5, (x: string) => calls.push(x), 'later')
    callSoon((x: string) => calls.push(x), 'soon')
    const cancelled = callSoon(() => calls.push('cancelled'))
    cancelled.cancel()
    expect(cancelled.cancelled()).toBe(true)
    await sleep(40)
    expect(calls).toEqual(['soon', 'later', 'at'])
    expect(() => callLater(-1, () => {})).toThrow(RangeError)
    expect(() => callSoon(42 as never)).toThrow(TypeError)
  })

  it('sleep resolves to its value; cancelling it clears its timer', async () => {
    expect(await sleep(1, 'v')).toBe('v')
    const s = sleep(10_000)
    expect(s.cancel()).toBe(true)
    await expect(s).rejects.toThrow(CancelledError)
  })
})

describe('the event loop stays responsive', () => {
  const work = 36 // fib(36): ~100-300 ms of one core

  it.each(backends)('a setInterval keeps ticking while runInExecutor runs CPU work on a $name, and not when it runs inline', async ({ make }) => {
    const ex = make({ maxWorkers: 1 })
    const { fib } = await import('./fixtures/tasks.js')
    await runInExecutor(ex, tasks.add, 0, 0) // started and warm
    let ticks = 0
    const ticker = setInterval(() => ticks++, 5)
    const offloaded = performance.now()
    await runInExecutor(ex, tasks.fib, work)
    const offloadedMs = performance.now() - offloaded
    const ticksOffloaded = ticks
    ticks = 0
    fib(work)
    await tick()
    clearInterval(ticker)
    expect(ticks).toBeLessThanOrEqual(1)
    // Generous: a quarter of the ticks a free loop would make.
    expect(ticksOffloaded).toBeGreaterThan(offloadedMs / 5 / 4)
  })
})
