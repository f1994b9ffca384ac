// Time is honoured or refused: a delay past setTimeout's limit (2^31-1 ms)
// waits that long instead of firing after 1 ms, and Infinity never arms a timer.

import { afterEach, describe, expect, it, vi } from 'vitest'
import { TimeoutError } from 'concurrent-futures'
import { callLater, sleep, wait as loopWait, waitFor } from 'concurrent-futures/loop'
import { pool, tasks } from './helpers.js'

const DAYS_35 = 35 * 24 * 3600 * 1000 // past 2^31-1 ms (24.8 days)

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Collects the TimeoutOverflowWarnings Node prints when a timer is given more than it can wait. */
function overflowWarnings(): { count: () => number; stop: () => void } {
  let count = 0
  const onWarning = (warning: Error): void => {
    if (warning.name === 'TimeoutOverflowWarning') count++
  }
  process.on('warning', onWarning)
  return { count: () => count, stop: () => process.off('warning', onWarning) }
}

describe('long delays', () => {
  afterEach(() => vi.useRealTimers())

  it('waitFor() with 35 days neither rejects nor cancels its awaitable early', async () => {
    const inner = sleep(DAYS_35)
    let settled = false
    const outer = waitFor(inner, DAYS_35).then(() => (settled = true), () => (settled = true))
    await pause(50)
    expect(settled).toBe(false)
    expect(inner.cancelled()).toBe(false)
    inner.cancel()
    await outer
  })

  it('sleep(), callLater() and the loop\'s wait() with 35 days do not fire at once', async () => {
    const slept = sleep(DAYS_35)
    let called = false
    const handle = callLater(DAYS_35, () => (called = true))
    const waited = loopWait([slept], { timeout: DAYS_35 })
    await pause(50)
    expect(slept.done()).toBe(false)
    expect(called).toBe(false)
    slept.cancel()
    handle.cancel()
    expect((await waited).done.size).toBe(1)
  })

  it('fires a delay past the limit after the whole of it, in legs of one timer', () => {
    vi.useFakeTimers()
    const fired = vi.fn()
    callLater(3 * 2 ** 31, fired)
    vi.advanceTimersByTime(3 * 2 ** 31 - 10)
    expect(fired).not.toHaveBeenCalled()
    vi.advanceTimersByTime(10)
    expect(fired).toHaveBeenCalledOnce()
  })

  it('map() with a 35-day timeout does not time out', async () => {
    const ex = pool({ maxWorkers: 1 })
    const values: unknown[] = []
    for await (const value of ex.map(tasks.sleep, [30, 30], [1, 2], { timeout: DAYS_35 })) values.push(value)
    expect(values).toEqual([1, 2])
  })

  it('idleTimeoutMs of 35 days keeps an idle worker', async () => {
    const ex = pool({ maxWorkers: 1, idleTimeoutMs: DAYS_35 })
    const first = (await ex.submit(tasks.thread)).threadId
    await pause(50)
    expect((await ex.submit(tasks.thread)).threadId).toBe(first)
  })

  it('timeoutMs: Infinity never times out and arms no timer (no overflow warnings)', async () => {
    const warnings = overflowWarnings()
    try {
      const ex = pool({ maxWorkers: 1, interruptGraceMs: Infinity })
      expect(await ex.submitWith({ timeoutMs: Infinity }, tasks.sleep, 100, 'done')).toBe('done')
      expect(await ex.submitWith({ timeoutMs: DAYS_35 }, tasks.sleep, 20, 'long')).toBe('long')
      await expect(ex.submitWith({ timeoutMs: 20 }, tasks.spinUntilInterrupted)).rejects.toBeInstanceOf(TimeoutError)
      await pause(10) // a warning is emitted on the next tick
      expect(warnings.count()).toBe(0)
    } finally {
      warnings.stop()
    }
  })

  it('a delay of any size arms legs within the limit: no overflow warning (1e25 ms once made a leg of 2^31 - 1 + 2e-7)', async () => {
    const warnings = overflowWarnings()
    try {
      for (const ms of [1e25, 7.66e24, 2 ** 60, Number.MAX_VALUE]) {
        callLater(ms, () => {}).cancel()
        sleep(ms).cancel()
      }
      await pause(10) // a warning is emitted on the next tick
      expect(warnings.count()).toBe(0)
    } finally {
      warnings.stop()
    }
  })
})
