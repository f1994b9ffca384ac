// timeout(), timeoutAt() and withTimeout(): asyncio.timeout on the loop side.

import { describe, expect, it } from 'vitest'
import { TimeoutError } from 'concurrent-futures'
import { asCompleted, InvalidStateError, runInExecutorWith, sleep, time, timeout, timeoutAt, waitFor, withTimeout } from 'concurrent-futures/loop'
import { setTimeout as delay } from 'node:timers/promises'
import { pool, processPool, tasks } from './helpers.js'

describe('timeout()', () => {
  it.each([
    ['ThreadPoolExecutor', pool],
    ['ProcessPoolExecutor', processPool],
  ] as const)('on expiry interrupts a running %s task given t.signal, and the block throws TimeoutError', async (_name, make) => {
    const executor = make({ interruptGraceMs: 200 })
    await executor.submit(tasks.add, 1, 2) // a worker is up: the task is running, not waiting, at expiry
    const started = Date.now()
    const run = async (): Promise<void> => {
      using t = timeout(300)
      await runInExecutorWith(executor, { signal: t.signal }, tasks.spinUntilInterrupted)
    }
    await expect(run()).rejects.toBeInstanceOf(TimeoutError)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('withTimeout turns an executor task cancelled before it started into TimeoutError', async () => {
    const executor = pool({ maxWorkers: 1, interruptGraceMs: 200 })
    const first = runInExecutorWith(executor, {}, tasks.sleepSync, 500)
    const error = await withTimeout(100, (t) => runInExecutorWith(executor, { signal: t.signal }, tasks.add, 1, 2)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    await first
  })

  it('withTimeout turns the AbortError of an API given t.signal into TimeoutError; expired() and when() say what happened', async () => {
    let seen: ReturnType<typeof timeout> | undefined
    const error = await withTimeout(50, async (t) => {
      seen = t
      await delay(5000, undefined, { signal: t.signal })
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).cause).toMatchObject({ name: 'AbortError' })
    expect(seen!.expired()).toBe(true)
    expect(typeof seen!.when()).toBe('number')
  })

  it('waitFor() with t.signal bounds any awaitable', async () => {
    const run = async (): Promise<unknown> => {
      using t = timeout(50)
      return await waitFor(sleep(5000), undefined, { signal: t.signal })
    }
    await expect(run()).rejects.toBeInstanceOf(TimeoutError)
  })

  it('leaves the block alone before the deadline, and other errors as they are', async () => {
    await expect(withTimeout(1000, () => sleep(10, 'ok'))).resolves.toBe('ok')
    await expect(withTimeout(null, async () => Promise.reject(new Error('own')))).rejects.toThrow('own')
    using t = timeout(null)
    expect(t.when()).toBeNull()
    expect(t.expired()).toBe(false)
  })

  it('reschedule() moves the deadline, earlier or later; not after expiry or the end of the block', async () => {
    const t = timeout(10_000)
    t.reschedule(time() + 20)
    await sleep(100)
    expect(t.expired()).toBe(true)
    expect(() => t.reschedule(time() + 1000)).toThrow(InvalidStateError)
    const later = timeout(20)
    later.reschedule(null)
    await sleep(60)
    expect(later.expired()).toBe(false)
    later[Symbol.dispose]()
    expect(() => later.reschedule(1)).toThrow(InvalidStateError)
  })

  it('timeoutAt() in the past expires at once; a huge delay arms a long timer, not one that fires after 1 ms', async () => {
    const past = timeoutAt(time() - 1000)
    await sleep(10)
    expect(past.expired()).toBe(true)
    using huge = timeout(2 ** 40)
    await sleep(20)
    expect(huge.expired()).toBe(false)
  })

  it('refuses a negative, NaN or non-number delay or time with one clear error', async () => {
    expect(() => timeout(-1)).toThrow(RangeError)
    expect(() => timeout(NaN)).toThrow(/timeout\(\) ms must be a number of milliseconds/)
    expect(() => timeout('5' as never)).toThrow(TypeError)
    expect(() => timeoutAt(NaN)).toThrow(RangeError)
    await expect(withTimeout(10, 'x' as never)).rejects.toThrow(TypeError)
  })
})

describe('asCompleted({ futures: true })', () => {
  it('yields the awaitables themselves, as { awaitable }, in completion order, a failed one without throwing', async () => {
    const slow = sleep(80, 'slow')
    const failed = sleep(5).then(() => Promise.reject(new Error('no')))
    const fast = sleep(30, 'fast')
    const order: unknown[] = []
    for await (const { awaitable } of asCompleted([slow, failed, fast], { futures: true })) order.push(awaitable)
    expect(order).toEqual([failed, fast, slow])
    await expect(order[0]).rejects.toThrow('no')
    expect(() => asCompleted([slow], { futures: 'yes' as never })).toThrow(/asCompleted\(\) option futures must be true or false/)
  })
})
