// Progress reports from a running task to its Future: in order, coalesced
// (bounded however often a task reports), never after the future settles,
// to a blocked result() caller as to an awaiting one; on threads, child
// processes and the queue.

import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ProgressReporter } from 'concurrent-futures'
import { runInExecutorWith } from 'concurrent-futures/loop'
import { reportProgress } from 'concurrent-futures/worker'
import { localBackends, processPool, tasks, until } from './helpers.js'
import { eventually, haveRedis, later, queueSuite, startWorker, withRedis } from './queue-helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe.each(localBackends)('$name progress', ({ make }) => {
  it('reaches a thread blocked in result(): every report, in order, before result() returns', () => {
    const ex = make({ maxWorkers: 1 })
    const seen: Array<[number, boolean]> = []
    let returned = false
    const f = ex.submitWith({ onProgress: (n) => seen.push([n, returned]) }, tasks.countUp, 5, 3)
    expect(f.result(10_000)).toBe(5)
    returned = true
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => [n, false]))
  })

  it('reaches an awaiting caller through onProgress() and the progress() iterator, which ends when the future is done', async () => {
    const ex = make({ maxWorkers: 1 })
    const f = ex.submit(tasks.countUp, 5, 3)
    const called: number[] = []
    f.onProgress((n) => called.push(n))
    const iterated: number[] = []
    for await (const n of f.progress()) iterated.push(n)
    expect(f.done()).toBe(true)
    expect(await f).toBe(5)
    expect(called).toEqual([1, 2, 3, 4, 5])
    // It keeps only the newest value not taken, so it may skip some; never the last, never out of order.
    expect(iterated.at(-1)).toBe(5)
    expect(iterated).toEqual([...iterated].sort((a, b) => a - b))
  })

  it('a million reports in a synchronous loop send about one message a millisecond, and the last value arrives', () => {
    const ex = make({ maxWorkers: 1 })
    let count = 0
    let last = -1
    let ordered = true
    const f = ex.submitWith({ onProgress: (n) => ((ordered &&= n > last), (count += 1), (last = n)) }, tasks.reportMany, 1_000_000)
    const loopMs = f.result(30_000)
    expect(ordered).toBe(true)
    expect(last).toBe(999_999)
    expect(count).toBeGreaterThan(0)
    // One per elapsed millisecond, plus the last before the result; a little slack for a coarse clock.
    expect(count).toBeLessThanOrEqual(Math.ceil(loopMs) + 2)
  })

  it('a value held back is dropped once a newer one is sent: never delivered after it', async () => {
    const ex = make({ maxWorkers: 1 })
    const seen: number[] = []
    await ex.submitWith({ onProgress: (n) => seen.push(n) }, tasks.reportHeldThenLate)
    // [1, 3], or [1, 2, 3] when the worker was descheduled for a millisecond between 1 and 2; never 2 after 3.
    expect([[1, 3], [1, 2, 3]]).toContainEqual(seen)
  })

  it('a value held back by an async task goes once its millisecond has passed, not only at the end', async () => {
    const ex = make({ maxWorkers: 1 })
    const seen: number[] = []
    const f = ex.submitWith({ onProgress: (n) => seen.push(n) }, tasks.reportTwiceThenWait, 1500)
    await until(() => seen.length > 0) // the worker started
    await until(() => seen.length === 2, 500)
    expect(f.done()).toBe(false)
    expect(seen).toEqual([1, 2])
    await f
  })

  it('whatever the gaps between reports, what arrives is in order and ends with the last value (property)', async () => {
    const ex = make({ maxWorkers: 1 })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 12 }), async (gaps) => {
        const seen: number[] = []
        await ex.submitWith({ onProgress: (n) => seen.push(n) }, tasks.reportAfterGaps, gaps)
        expect(seen.at(-1)).toBe(gaps.length - 1)
        expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b))
      }),
      { numRuns: 25, seed: 15 },
    )
  })

  it('a slow progress() consumer is handed the newest value only: nothing queues up', async () => {
    const ex = make({ maxWorkers: 1 })
    const f = ex.submit(tasks.countUp, 40, 2)
    const iterated: number[] = []
    for await (const n of f.progress()) {
      iterated.push(n)
      await later(25)
    }
    expect(iterated.length).toBeLessThan(40)
    expect(iterated.at(-1)).toBe(40)
    expect(iterated).toEqual([...iterated].sort((a, b) => a - b))
  })

  it('a value that cannot travel (a function, a symbol) throws a TypeError at the call; the task goes on', async () => {
    const ex = make({ maxWorkers: 1 })
    const seen: unknown[] = []
    const f = ex.submitWith({ onProgress: (value) => seen.push(value) }, function (this: ProgressReporter<unknown>) {
      try {
        this.reportProgress(() => 1)
        return 'sent'
      } catch (error) {
        this.reportProgress('after')
        return `${(error as Error).name}: ${(error as Error).message}`
      }
    })
    expect(await f).toMatch(/^TypeError: reportProgress\(\) was given a value that cannot be sent to the pool \(by .*\): .*could not be cloned/)
    expect(await ex.submit(tasks.reportSymbol)).toMatch(/^TypeError: reportProgress\(\) was given a value that cannot be sent/)
    expect(seen).toEqual(['after'])
  })

  it('a throwing onProgress callback is printed, as a done callback\'s exception is; the other callbacks, the future and the pool go on', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    const ex = make({ maxWorkers: 1 })
    const after: number[] = []
    const f = ex.submitWith({ onProgress: () => { throw new Error('bad callback') } }, tasks.countUp, 3, 2)
    f.onProgress((n) => after.push(n))
    expect(await f).toBe(3)
    expect(after).toEqual([1, 2, 3])
    expect(printed).toHaveBeenCalledTimes(3)
    expect(String(printed.mock.calls[0]![0])).toMatch(/^exception calling progress callback for Future#\d+<running>/)
    expect((printed.mock.calls[0]![1] as Error).message).toBe('bad callback')
    expect(await ex.submit(tasks.add, 1, 2)).toBe(3)
  })

  it('is never delivered after the future settles: not once cancelled, not after an interrupt, not after its user settled it', async () => {
    const ex = make({ maxWorkers: 1 })
    const blocker = ex.submit(tasks.sleepSync, 100)
    const afterCancel: unknown[] = []
    const cancelled = ex.submitWith({ onProgress: (value) => afterCancel.push(value) }, tasks.countUp, 3, 1)
    expect(cancelled.cancel()).toBe(true)
    await blocker
    await ex.submit(tasks.add, 0, 0)
    expect(afterCancel).toEqual([])

    const controller = new AbortController()
    const interrupted = ex.submitWith({ signal: controller.signal }, tasks.reportUntilAborted)
    const seen: Array<[string, boolean]> = []
    interrupted.onProgress((value) => seen.push([value, interrupted.done()]))
    await until(() => seen.length > 0)
    controller.abort(new Error('stop'))
    await expect(interrupted).rejects.toThrow('stop')
    expect(seen).toEqual([['started', false], ['aborted', false]])

    // A callback that settles the future: the callbacks after it, and later reports, are not called.
    const settledByUser = ex.submit(tasks.countUp, 5, 3)
    const second: number[] = []
    settledByUser.onProgress(() => settledByUser.done() || settledByUser.setResult(-1))
    settledByUser.onProgress((n) => second.push(n))
    expect(await settledByUser).toBe(-1)
    await ex.submit(tasks.add, 0, 0) // the task ran to its end meanwhile
    expect(second).toEqual([])
  })

  it('onProgress() and progress() on a done future: never called, ends at once; return() stops an iterator', async () => {
    const ex = make({ maxWorkers: 1 })
    const f = ex.submit(tasks.countUp, 3, 5)
    const it = f.progress()
    expect(await it.next()).toEqual({ done: false, value: 1 })
    expect(await it.return!()).toEqual({ done: true, value: undefined })
    expect(await it.next()).toEqual({ done: true, value: undefined })
    expect(await f).toBe(3)
    const late: unknown[] = []
    f.onProgress((value) => late.push(value))
    expect(await f.progress().next()).toEqual({ done: true, value: undefined })
    expect(late).toEqual([])
    expect(() => f.onProgress(5 as never)).toThrow(/onProgress expects a function, got 5/)
  })

  it('a chunked map task may report (nobody listens: dropped); its results are unchanged', () => {
    const ex = make({ maxWorkers: 1 })
    expect([...ex.map(tasks.countUp, [1, 2, 3], [0, 0, 0], { chunksize: 3 })]).toEqual([1, 2, 3])
  })

  it('runInExecutorWith() passes onProgress on', async () => {
    const ex = make({ maxWorkers: 1 })
    const seen: number[] = []
    expect(await runInExecutorWith(ex, { onProgress: (n) => seen.push(n) }, tasks.countUp, 3, 2)).toBe(3)
    expect(seen).toEqual([1, 2, 3])
  })

  it("only a task whose source says `this` gets the reporter: the others' stack frames read as before", async () => {
    const ex = make({ maxWorkers: 1 })
    const error = (await ex.submit(tasks.fail, 'x').exception()) as Error
    expect(error.stack).toMatch(/\n\s+at fail \(.*tasks\.ts/)
    expect(await ex.submit(function (this: unknown) { return typeof (this as { reportProgress?: unknown }).reportProgress })).toBe('function')
  })

  it('submitWith() refuses an onProgress that is not a function', () => {
    const ex = make({ maxWorkers: 1 })
    expect(() => ex.submitWith({ onProgress: 'log' as never }, tasks.add, 1, 2)).toThrow(/submitWith\(\) option onProgress must be a function, got 'log'/)
  })
})

describe('reportProgress()', () => {
  it('outside a task throws a clear error', () => {
    expect(() => reportProgress(1)).toThrow('reportProgress() is only available inside a task running in a pool worker')
  })

  it("on a 'json' process pool, a value JSON cannot carry throws at the call", async () => {
    const ex = processPool({ maxWorkers: 1, serialization: 'json' })
    const seen: unknown[] = []
    const f = ex.submitWith({ onProgress: (value) => seen.push(value) }, function (this: ProgressReporter<unknown>) {
      const errors: string[] = []
      for (const value of [10n, () => 1, Symbol('s')]) {
        try {
          this.reportProgress(value)
        } catch (error) {
          errors.push((error as Error).message)
        }
      }
      this.reportProgress({ at: new Date(0), n: NaN })
      return errors
    })
    const errors = await f
    expect(errors).toHaveLength(3)
    for (const message of errors) expect(message).toMatch(/^reportProgress\(\) was given a value that cannot be sent to the pool \(as JSON\)/)
    expect(seen).toEqual([{ at: '1970-01-01T00:00:00.000Z', n: null }]) // as JSON carries it, as results are
  })
})

describe.runIf(haveRedis)('QueueExecutor progress', () => {
  const suite = queueSuite('p')
  const { serveQueue, executor, inspect } = suite

  it("reaches the Future through BullMQ's job progress and its 'progress' event, before the result, to a blocked caller", async () => {
    const { queue } = await serveQueue(1)
    const ex = executor(queue)
    const seen: number[] = []
    const f = ex.submitWith({ onProgress: (n) => seen.push(n) }, tasks.countUp, 5, 20)
    expect(f.result(10_000)).toBe(5)
    expect(seen.at(-1)).toBe(5) // read as result() returns: delivered before it
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    const [job] = await inspect(queue).getJobs(['completed'])
    expect(job!.progress).toBe(5)
    // An awaiting caller, by the iterator.
    const g = ex.submit(tasks.countUp, 3, 20)
    const iterated: number[] = []
    for await (const n of g.progress()) iterated.push(n)
    expect(iterated.at(-1)).toBe(3)
  })

  it('a task reporting a million times writes a bounded number of progress events; the last one arrives', async () => {
    const { queue } = await serveQueue(1)
    const ex = executor(queue)
    let count = 0
    let last = -1
    await ex.submitWith({ onProgress: (n) => ((count += 1), (last = n)) }, tasks.reportMany, 1_000_000)
    expect(last).toBe(999_999)
    const events = await withRedis(suite.redis, (admin) => admin.xrange(`bull:${queue}:events`, '-', '+'))
    const written = events.filter(([, fields]) => fields[1] === 'progress').length
    expect(written).toBe(count) // each write read once
    expect(written).toBeLessThan(2000)
  })

  it('a value JSON would change is dropped by the worker, which says so once; the task and its other reports go on', async () => {
    const { queue, served } = await serveQueue(1)
    const ex = executor(queue)
    const seen: unknown[] = []
    const f = ex.submitWith({ onProgress: (value) => seen.push(value) }, tasks.reportNotJson)
    expect(await f).toBe('done')
    expect(seen).toEqual([{ fine: true }])
    await until(() => served[0]!.errors().includes('progress value'))
    expect(served[0]!.errors()).toMatch(/the progress value of reportNotJson is a Map, which JSON does not keep.*; such values are dropped/)
    expect(served[0]!.errors().match(/progress value/g)).toHaveLength(1)
  })

  it('hostile progress entries in the events stream crash nothing: unparsable ones are dropped, the job completes', async () => {
    const queue = suite.newQueue() // no worker yet: the job waits
    const ex = executor(queue)
    const seen: unknown[] = []
    const f = ex.submitWith({ onProgress: (value) => seen.push(value) }, tasks.add, 1, 2)
    const raw = inspect(queue)
    let id: string | undefined
    await eventually(async () => (id = (await raw.getJobs(['waiting']))[0]?.id) !== undefined, 10_000)
    const events = `bull:${queue}:events`
    await withRedis(suite.redis, async (admin) => {
      await admin.xadd(events, '*', 'event', 'progress', 'jobId', id!, 'data', 'not JSON{')
      await admin.xadd(events, '*', 'event', 'progress', 'jobId', id!)
      await admin.xadd(events, '*', 'event', 'progress', 'jobId', id!, 'data', '{"__proto__":{"polluted":true},"n":1}')
      await admin.xadd(events, '*', 'event', 'progress', 'data', '2')
    })
    await until(() => seen.length === 1)
    expect(seen).toEqual([JSON.parse('{"__proto__":{"polluted":true},"n":1}')])
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
    suite.workers.push(startWorker(suite.redis, queue))
    expect(await f).toBe(3)
  })
})
