import { inspect } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import { CancelledError, DeadlockError, Future, InvalidStateError, TimeoutError } from 'concurrent-futures'
import { cancelled, finished, pool, tasks } from './helpers.js'

function failed(error: unknown): Future<never> {
  const f = new Future<never>()
  f.setException(error)
  return f
}
function running(): Future<never> {
  const f = new Future<never>()
  f.setRunningOrNotifyCancel()
  return f
}

describe('Future states (part A)', () => {
  it('starts PENDING (B1) and reports each state (B7-B9)', () => {
    const f = new Future()
    expect([f.state, f.done(), f.cancelled(), f.running()]).toEqual(['PENDING', false, false, false])
    expect([running().running(), running().done()]).toEqual([true, false])
    expect([cancelled().cancelled(), cancelled().done(), cancelled().running()]).toEqual([true, true, false])
    expect([finished(1).done(), finished(1).cancelled(), failed(new Error()).done()]).toEqual([true, false, true])
  })

  it('cancels only what is pending (B2-B6)', () => {
    const pending = new Future()
    expect(pending.cancel()).toBe(true)
    expect(pending.state).toBe('CANCELLED')
    expect(pending.cancel()).toBe(true)
    const r = running()
    expect(r.cancel()).toBe(false)
    expect(r.state).toBe('RUNNING')
    expect(finished(1).cancel()).toBe(false)
    expect(failed(new Error()).cancel()).toBe(false)
  })

  it('result(0) and exception(0) in every state (B10-B12, B15)', () => {
    for (const f of [new Future(), running()]) {
      expect(() => f.result(0)).toThrow(TimeoutError)
      expect(() => f.exception(0)).toThrow(TimeoutError)
    }
    expect(() => cancelled().result(0)).toThrow(CancelledError)
    expect(() => cancelled().exception(0)).toThrow(CancelledError)
    const error = new RangeError('x')
    expect(() => failed(error).result(0)).toThrow(error)
    expect(failed(error).exception(0)).toBe(error)
    expect(finished(42).result(0)).toBe(42)
    expect(finished(42).exception(0)).toBeUndefined()
  })

  it('blocks until a worker completes it (B13, B16)', () => {
    const ex = pool()
    expect(ex.submit(tasks.sleepSync, 50).result(5000)).toBe(50)
    expect(ex.submit(tasks.fail, 'late').exception(5000)).toBeInstanceOf(RangeError)
  })

  it('wakes a blocked result() when a callback cancels it (B14)', () => {
    const ex = pool({ maxWorkers: 1 })
    const first = ex.submit(tasks.sleepSync, 50)
    // The worker starts whatever it holds next as soon as `first` ends; the filler is that task.
    ex.submit(tasks.sleepSync, 200)
    const second = ex.submit(tasks.sleepSync, 5000)
    first.addDoneCallback(() => second.cancel())
    const start = Date.now()
    expect(() => second.result()).toThrow(CancelledError)
    expect(Date.now() - start).toBeLessThan(4000)
  })

  it('refuses a second result, keeping the first (B17-B19, B22)', () => {
    const f = finished(1)
    expect(() => f.setResult(2)).toThrow(InvalidStateError)
    expect(() => f.setResult(2)).toThrow(/^FINISHED: Future#\d+<finished returned number>$/)
    expect(f.result()).toBe(1)
    const g = failed(new RangeError('first'))
    expect(() => g.setException(new Error('second'))).toThrow(/^FINISHED: Future#\d+<finished raised RangeError>$/)
    expect((g.exception() as Error).message).toBe('first')
    expect(() => cancelled().setResult(1)).toThrow(/^CANCELLED: /)
  })

  it('setRunningOrNotifyCancel (B20, B21)', () => {
    const f = new Future()
    expect(f.setRunningOrNotifyCancel()).toBe(true)
    expect(f.state).toBe('RUNNING')
    expect(cancelled().setRunningOrNotifyCancel()).toBe(false)
    expect(() => f.setRunningOrNotifyCancel()).toThrow(InvalidStateError)
    expect(() => finished(1).setRunningOrNotifyCancel()).toThrow(InvalidStateError)
  })

  it('shows its state like repr (B23)', () => {
    expect(inspect(new Future())).toMatch(/^Future#\d+<pending>$/)
    expect(String(running())).toMatch(/<running>$/)
    expect(String(cancelled())).toMatch(/<cancelled>$/)
    expect(String(failed(new TypeError()))).toMatch(/<finished raised TypeError>$/)
    expect(String(finished(1))).toMatch(/<finished returned number>$/)
    expect(String(finished(null))).toMatch(/<finished returned null>$/)
  })

  it('treats any thrown value as an exception, even a falsy one (B24)', () => {
    for (const value of [0, '', null, undefined, false]) {
      const f = failed(value)
      expect(() => f.result()).toThrow()
      try {
        f.result()
      } catch (thrown) {
        expect(thrown).toBe(value)
      }
    }
  })

  it('is awaitable', async () => {
    expect(await finished('v')).toBe('v')
    await expect(failed(new Error('e'))).rejects.toThrow('e')
    await expect(cancelled()).rejects.toBeInstanceOf(CancelledError)
    const later = new Future<number>()
    setTimeout(() => later.setResult(7), 5)
    expect(await later).toBe(7)
  })

  it('will not block forever on what nothing can complete', () => {
    expect(() => new Future().result()).toThrow(DeadlockError)
    expect(() => new Future().result(20)).toThrow(TimeoutError)
    expect(() => new Future().result(-1)).toThrow(RangeError)
  })
})

describe('done callbacks (part B)', () => {
  it('run with the future on result, exception and cancel (B25-B27)', () => {
    const seen: unknown[] = []
    const a = new Future<number>()
    a.addDoneCallback((f) => seen.push(f.result()))
    a.setResult(5)
    const b = new Future()
    b.addDoneCallback((f) => seen.push((f.exception() as Error).message))
    b.setException(new Error('boom'))
    const c = new Future()
    c.addDoneCallback((f) => seen.push(f.cancelled()))
    c.cancel()
    expect(seen).toEqual([5, 'boom', true])
  })

  it('run at once when added to a done future (B28-B30)', () => {
    for (const f of [finished(1), failed(new Error()), cancelled()]) {
      let called = false
      f.addDoneCallback(() => (called = true))
      expect(called).toBe(true)
    }
  })

  it('report a throw, and the others still run, in order (B31-B33)', () => {
    const report = vi.spyOn(console, 'error').mockImplementation(() => {})
    const order: number[] = []
    const f = new Future()
    f.addDoneCallback(() => order.push(1))
    f.addDoneCallback(() => {
      throw new Error('callback broke')
    })
    f.addDoneCallback(() => order.push(3))
    f.setResult(null)
    expect(order).toEqual([1, 3])
    expect(report).toHaveBeenCalledWith(expect.stringMatching(/^exception calling callback for Future#\d+<finished/), expect.objectContaining({ message: 'callback broke' }))
    expect(() => finished(1).addDoneCallback(() => {
      throw new Error('again')
    })).not.toThrow()
    expect(report).toHaveBeenCalledTimes(2)
    report.mockRestore()
  })

  it('run exactly once', () => {
    let calls = 0
    const f = new Future()
    f.addDoneCallback(() => calls++)
    f.setResult(1)
    expect(() => f.setResult(2)).toThrow()
    f.cancel()
    expect(calls).toBe(1)
  })
})
