// stream(): generator tasks whose items come back as they are yielded, with
// credit-based backpressure, on both local pools (src/executors/task-stream.ts,
// workers/stream-runner.ts). The generators note in a file how many items
// they produced and whether their finally ran (test/fixtures/streams.ts).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CancelledError, DeadlockError, fromModule, remote, TimeoutError, type Executor, type ProgressReporter, type TaskStream } from 'concurrent-futures'
import { STREAM_WINDOW } from '../src/wire/protocol.js'
import { haveRedis } from './queue-helpers.js'
import { localBackends, queueExecutor, tasks, until } from './helpers.js'

const streams = fromModule<typeof import('./fixtures/streams.js')>(new URL('./fixtures/streams.ts', import.meta.url))

const dir = mkdtempSync(join(tmpdir(), 'cf-stream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const notePath = (): string => join(dir, `note-${files++}`)

function readNote(path: string): { produced: number; closed: boolean } {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { produced: number; closed: boolean }
  } catch {
    return { produced: 0, closed: false } // not written yet
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** How many items the generator noting in `path` has produced, once it has produced none for 200 ms. */
async function settled(path: string): Promise<number> {
  for (let last = -1; ;) {
    const produced = readNote(path).produced
    if (produced === last) return produced
    last = produced
    await sleep(200)
  }
}

/** The items of `stream` until it ends, and how it ended. */
async function drain<Y>(stream: AsyncIterable<Y>): Promise<{ items: Y[]; error?: unknown }> {
  const items: Y[] = []
  try {
    for await (const item of stream) items.push(item)
    return { items }
  } catch (error) {
    return { items, error }
  }
}

/** What `future` failed with. */
async function rejection(future: PromiseLike<unknown>): Promise<unknown> {
  return future.then(() => expect.fail('expected a failure'), (error: unknown) => error)
}

describe.each(localBackends)('stream() on $name', ({ make, replaceDead }) => {
  it('yields every item in order, sync and async generators, exported or self-contained; result holds the return value', async () => {
    const pool = make()
    const counted = pool.stream(streams.count, 1000)
    expect((await drain(counted)).items).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    expect(await counted.result).toBe('counted 1000')
    const objects = pool.stream(streams.countAsync, 40, 1)
    expect((await drain(objects)).items).toEqual(Array.from({ length: 40 }, (_, i) => ({ i })))
    expect(await objects.result).toBe(40)
    const inline = pool.stream(function* (base: number) {
      for (let i = 0; i < 3; i++) yield `${base + i}`
      return 'inline'
    }, 10)
    expect((await drain(inline)).items).toEqual(['10', '11', '12'])
    expect(await inline.result).toBe('inline')
    const empty = pool.stream(streams.count, 0)
    expect((await drain(empty)).items).toEqual([])
    expect(await empty.result).toBe('counted 0')
  })

  it('a generator declared this: ProgressReporter reports progress through its this, exported or self-contained', async () => {
    const pool = make()
    const inline = function* (this: ProgressReporter<string>, n: number) {
      this.reportProgress(`at ${n}`)
      yield n
    }
    for (const [task, expected] of [[streams.countReporting, [0, 1, 2]], [inline, ['at 3']]] as const) {
      const stream = pool.stream(task as never, 3) as TaskStream<unknown, unknown>
      const seen: unknown[] = []
      stream.result.onProgress((value) => seen.push(value))
      for await (const _ of stream) void _
      await stream.result
      expect(seen.at(-1)).toEqual(expected.at(-1))
    }
  })

  it('streamWith({ onProgress }) calls it with what the generator reports, as submitWith() does', async () => {
    const seen: unknown[] = []
    const stream = make().streamWith({ onProgress: (value) => seen.push(value) }, streams.countReporting, 3)
    for await (const _ of stream) void _
    expect(await stream.result).toBe('reported')
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.at(-1)).toBe(2)
  })

  it('an object the generator changes after yielding it arrives as it was when yielded', async () => {
    const items: Array<{ i: number }> = []
    for await (const row of make().stream(streams.reuseRow, 5)) items.push(row)
    expect(items).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })))
  })

  it('100,000 small items arrive complete and in order', async () => {
    const pool = make({ maxWorkers: 1 })
    const stream = pool.stream(streams.count, 100_000)
    let expected = 0
    for await (const item of stream) {
      if (item !== expected) expect.fail(`item ${expected} arrived as ${item}`)
      expected++
    }
    expect(expected).toBe(100_000)
    expect(await stream.result).toBe('counted 100000')
  })

  it(`runs at most STREAM_WINDOW (${STREAM_WINDOW}) items ahead of a slow consumer, and uses that window`, async () => {
    const pool = make()
    for (const start of [(path: string) => pool.stream(streams.produce, path), (path: string) => pool.stream(streams.produceAsync, path)]) {
      const path = notePath()
      let taken = 0
      let mostAhead = 0
      for await (const item of start(path)) {
        expect(item).toBe(taken)
        taken++
        await sleep(2) // the worker has all the time it wants to run ahead
        mostAhead = Math.max(mostAhead, readNote(path).produced - taken)
        if (taken % 20 === 0) {
          // Paused: the worker runs ahead by at least half its window (credit comes in halves), then stops.
          const ahead = (await settled(path)) - taken
          expect(ahead).toBeGreaterThanOrEqual(STREAM_WINDOW / 2)
          mostAhead = Math.max(mostAhead, ahead)
        }
        if (taken === 60) break
      }
      expect(mostAhead).toBeLessThanOrEqual(STREAM_WINDOW)
      await until(() => readNote(path).closed)
      expect(readNote(path).produced).toBeLessThanOrEqual(60 + STREAM_WINDOW)
    }
  })

  it('break runs the generator\'s finally in the worker, frees the worker, and fails result with CancelledError', async () => {
    const pool = make({ maxWorkers: 1 })
    for (const start of [(path: string) => pool.stream(streams.produce, path), (path: string) => pool.stream(streams.produceAsync, path)]) {
      const path = notePath()
      const stream = start(path)
      for await (const item of stream) if (item === 3) break
      const error = await rejection(stream.result)
      expect(error).toBeInstanceOf(CancelledError)
      expect((error as Error).message).toMatch(/consumer stopped the stream/)
      expect(readNote(path).closed).toBe(true) // the finally ran before the task answered
      expect(await pool.submit(streams.notAGenerator)).toBe(5) // the one worker is free
      expect(await stream.next()).toEqual({ done: true, value: undefined })
    }
  })

  it('return() before the first item stops a running generator; on a stream not started yet it cancels the task', async () => {
    const pool = make({ maxWorkers: 1 })
    const path = notePath()
    const running = pool.stream(streams.produce, path)
    await until(() => readNote(path).produced > 0)
    const queued = pool.stream(streams.count, 5)
    expect(await queued.return()).toEqual({ done: true, value: undefined })
    expect(queued.result.cancelled()).toBe(true)
    expect(await running.return()).toEqual({ done: true, value: undefined })
    expect(await rejection(running.result)).toBeInstanceOf(CancelledError)
    await until(() => readNote(path).closed)
    expect(await running.next()).toEqual({ done: true, value: undefined })
  })

  it('a blocking result() on a stream whose items wait for their consumer throws DeadlockError instead of hanging', async () => {
    const pool = make()
    const short = pool.stream(streams.count, 10) // within the window: it returns without a consumer
    expect(short.result.result()).toBe('counted 10')
    const long = pool.stream(streams.count, 10 * STREAM_WINDOW)
    expect(() => long.result.result()).toThrow(DeadlockError)
    expect(() => long.result.result()).toThrow(/waits for its consumer to take its items/)
    let items = 0
    for await (const _ of long) items++
    expect(items).toBe(10 * STREAM_WINDOW)
    expect(long.result.result()).toBe(`counted ${10 * STREAM_WINDOW}`)
    // With a timeout, the wait ends: the timeout stops the stream.
    const timed = pool.streamWith({ timeoutMs: 200 }, streams.count, 10 * STREAM_WINDOW)
    expect(() => timed.result.result()).toThrow(TimeoutError)
  })

  it('a blocking result() on a task queued behind streams that hold every worker throws DeadlockError instead of hanging', async () => {
    const pool = make({ maxWorkers: 2 })
    const held = [pool.stream(streams.count, 10 * STREAM_WINDOW), pool.stream(streams.count, 10 * STREAM_WINDOW)]
    const queued = pool.submit(streams.notAGenerator)
    expect(() => queued.result()).toThrow(/waits for its consumer to take its items/)
    expect(queued.done()).toBe(false)
    let items = 0
    for await (const _ of held[0]!) items++
    expect(items).toBe(10 * STREAM_WINDOW)
    expect(queued.result()).toBe(5) // a worker is free again: the wait ends
    await held[1]!.return()
  })

  it('a blocking result() on a task running beside a stalled stream waits for it, on a worker past the autoscaler\'s target too', async (ctx) => {
    const pool = make({ autoscale: { minWorkers: 1 }, maxWorkers: 2 })
    const backlog = Array.from({ length: 400 }, () => pool.submitWith({ priority: 10 }, tasks.sleepSync, 10))
    // A loaded machine may never give the autoscaler cause to grow: then this test has nothing to check.
    await until(() => pool.workerCount === 2, 15_000).catch(() => ctx.skip())
    // Ahead of the backlog, they take the two workers; then, the backlog gone, the probe of a second
    // worker is taken back: the target is 1 while both workers still run.
    const long = pool.submit(tasks.sleepSync, 2000)
    const held = pool.stream(streams.count, 10 * STREAM_WINDOW)
    await until(() => long.running() && !held.result.done())
    for (const future of backlog) future.cancel()
    await sleep(800)
    if (pool.workerCount < 2) ctx.skip()
    expect(long.result()).toBe(2000)
    await held.return()
  })

  it.each(['setResult', 'setException'] as const)('a stream whose result its user settles with %s is stopped: its worker is free again', async (how) => {
    const pool = make({ maxWorkers: 1 })
    const path = notePath()
    const stream = pool.stream(streams.produce, path)
    expect(await stream.next()).toEqual({ done: false, value: 0 })
    if (how === 'setResult') stream.result.setResult('settled by its user')
    else stream.result.setException(new RangeError('settled by its user'))
    await until(() => readNote(path).closed)
    const after = pool.submit(tasks.add, 2, 3)
    expect(after.result(10_000)).toBe(5)
    expect(await stream.next()).toEqual({ done: false, value: 1 }) // what came before the end is still there
  })

  it('a stream that ended before the consumer stopped keeps its result', async () => {
    const pool = make()
    const stream = pool.stream(streams.count, 3)
    expect(await stream.next()).toEqual({ done: false, value: 0 })
    await until(() => stream.result.done())
    await stream.return()
    expect(await stream.result).toBe('counted 3')
  })

  it('an error in the generator ends the iteration with it, after the items before it, and fails result with it', async () => {
    const pool = make()
    const stream = pool.stream(streams.failAfter, 20, 'no more')
    const { items, error } = await drain(stream)
    expect(items).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(error).toBeInstanceOf(RangeError)
    expect((error as Error).message).toBe('no more')
    expect(await rejection(stream.result)).toBe(error)
    expect(await stream.next()).toEqual({ done: true, value: undefined })
  })

  it('an item that cannot be sent back ends the stream with a TypeError after the items before it, and closes the generator', async () => {
    const pool = make()
    const path = notePath()
    const stream = pool.stream(streams.unsendable, path)
    const { items, error } = await drain(stream)
    expect(items).toEqual([1, 2])
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/an item the task yielded could not be sent back to the pool/)
    expect(readNote(path).closed).toBe(true)
  })

  it('cancelled before it starts, or by its signal before it starts: the iteration ends with CancelledError', async () => {
    const pool = make({ maxWorkers: 1 })
    const busy = pool.submit(tasks.sleepSync, 200)
    const cancelled = pool.stream(streams.count, 5)
    expect(cancelled.result.cancel()).toBe(true)
    expect((await drain(cancelled)).error).toBeInstanceOf(CancelledError)
    const controller = new AbortController()
    const aborted = pool.streamWith({ signal: controller.signal }, streams.count, 5)
    controller.abort()
    expect((await drain(aborted)).error).toBeInstanceOf(CancelledError)
    const alreadyAborted = pool.streamWith({ signal: AbortSignal.abort() }, streams.count, 5)
    expect((await drain(alreadyAborted)).error).toBeInstanceOf(CancelledError)
    await busy
  })

  it('its signal, aborted while it streams, ends the iteration with the reason, and its finally runs', async () => {
    const pool = make()
    const path = notePath()
    const controller = new AbortController()
    const stream = pool.streamWith({ signal: controller.signal }, streams.produce, path)
    const reason = new Error('enough')
    const seen: number[] = []
    const { error } = await drain((async function* () {
      for await (const item of stream) {
        seen.push(item)
        if (item === 2) controller.abort(reason)
        yield item
      }
    })())
    expect(error).toBe(reason)
    expect(await rejection(stream.result)).toBe(reason)
    expect(seen.slice(0, 3)).toEqual([0, 1, 2])
    await until(() => readNote(path).closed)
  })

  it('timeoutMs counts the time it waits for its consumer: the iteration ends with TimeoutError, and its finally runs', async () => {
    const pool = make()
    const path = notePath()
    const stream = pool.streamWith({ timeoutMs: 150 }, streams.produce, path)
    const { items, error } = await drain((async function* () {
      for await (const item of stream) {
        await sleep(5)
        yield item
      }
    })())
    expect(error).toBeInstanceOf(TimeoutError)
    expect(await rejection(stream.result)).toBe(error)
    expect(items.length).toBeGreaterThan(0)
    await until(() => readNote(path).closed)
  })

  it('a worker that dies mid-stream ends the iteration with the error result fails with', async () => {
    const pool = make({ maxWorkers: 1, ...replaceDead })
    const stream = pool.stream(streams.exitAfter, 10)
    const { items, error } = await drain(stream)
    expect(items).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(error).toBeInstanceOf(Error)
    expect(await rejection(stream.result)).toBe(error)
    expect(await pool.submit(streams.notAGenerator)).toBe(5) // replaced
  })

  it('a generator that never reaches its next yield after a break has its worker stopped after the grace period', async () => {
    const pool = make({ maxWorkers: 1, interruptGraceMs: 100 })
    const stream = pool.stream(streams.stuckAfterFirst)
    for await (const _ of stream) break
    expect(await rejection(stream.result)).toBeInstanceOf(CancelledError)
    expect(await pool.submit(streams.notAGenerator)).toBe(5) // on a new worker
  })

  it('terminateWorkers() mid-stream ends the iteration with the pool\'s Broken error', async () => {
    const pool = make()
    const stream = pool.stream(streams.produce, notePath())
    expect(await stream.next()).toEqual({ done: false, value: 0 })
    const stopped = pool.terminateWorkers()
    const { error } = await drain(stream)
    expect((error as Error).name).toMatch(/^Broken(Thread|Process)Pool$/)
    expect((error as Error).message).toMatch(/terminateWorkers\(\)/)
    await stopped
  })

  it('streams run alone: several at once, with plain tasks, all complete', async () => {
    const pool = make()
    const many = Array.from({ length: 5 }, (_, k) => pool.stream(streams.countAsync, 30 + k))
    const plain = Array.from({ length: 20 }, () => pool.submit(streams.notAGenerator))
    const drained = await Promise.all(many.map(drain))
    drained.forEach(({ items }, k) => expect(items).toHaveLength(30 + k))
    expect(await Promise.all(many.map((s) => s.result))).toEqual([30, 31, 32, 33, 34])
    expect(await Promise.all(plain)).toEqual(Array(20).fill(5))
  })

  it('a stream does not take the worker holding a remote object while another worker can run it: the object\'s calls go on', async () => {
    const pool = make({ maxWorkers: 2 })
    await using counter = await remote<typeof import('./fixtures/tasks.js').Counter>(pool, new URL('./fixtures/tasks.ts', import.meta.url), 'Counter')
    const stream = pool.stream(streams.count, 1000) // held by its consumer, which calls the object first
    try {
      expect(await stream.next()).toEqual({ done: false, value: 0 })
      expect(await Promise.race([counter.add(1), sleep(3000).then(() => 'stuck behind the stream')])).toBe(1)
    } finally {
      await stream.return()
    }
  })

  it('a stream waits for a busy worker rather than take the idle one holding a remote object', async () => {
    const pool = make({ maxWorkers: 2 })
    const busy = pool.submit(tasks.sleepSync, 300) // the object goes to the other worker
    await using counter = await remote<typeof import('./fixtures/tasks.js').Counter>(pool, new URL('./fixtures/tasks.ts', import.meta.url), 'Counter')
    await busy
    const later = pool.submit(tasks.sleepSync, 500)
    const stream = pool.stream(streams.count, 1000)
    let sum = 0
    for await (const item of stream) {
      const race = await Promise.race([counter.add(1), sleep(3000).then(() => 'stuck behind the stream')])
      expect(race).toBe(item + 1)
      sum += item
    }
    expect(sum).toBe((999 * 1000) / 2)
    expect(await later).toBe(500)
  })

  it('two streams read together, one worker holding a remote object: the second takes that worker rather than wait for the first', async () => {
    const pool = make({ maxWorkers: 2 })
    await using _counter = await remote<typeof import('./fixtures/tasks.js').Counter>(pool, new URL('./fixtures/tasks.ts', import.meta.url), 'Counter')
    const [a, b] = [pool.stream(streams.count, 1000), pool.stream(streams.count, 1000)]
    let pairs = 0
    const together = (async () => {
      for (;;) {
        const [x, y] = await Promise.all([a.next(), b.next()])
        if (x.done || y.done) return
        pairs++
      }
    })()
    try {
      expect(await Promise.race([together.then(() => 'read'), sleep(5000).then(() => 'stuck')])).toBe('read')
    } finally {
      await Promise.all([a.return(), b.return()])
    }
    expect(pairs).toBe(1000)
    expect(await Promise.all([a.result, b.result])).toEqual(['counted 1000', 'counted 1000'])
  })

  it('stopping at any point never hangs, and every stop closes the generator (20 rounds)', async () => {
    const pool = make({ maxWorkers: 1 })
    for (let round = 0; round < 20; round++) {
      const path = notePath()
      const stream = round % 2 ? pool.stream(streams.produce, path) : pool.stream(streams.produceAsync, path)
      const stopAt = (round * 7) % 40
      let taken = 0
      for await (const _ of stream) if (taken++ === stopAt) break
      await rejection(stream.result)
      expect(readNote(path).closed).toBe(true)
    }
    expect(await pool.submit(streams.notAGenerator)).toBe(5)
  })

  it('a generator given to submit() or map() fails with a TypeError that says to use stream()', async () => {
    const pool = make()
    await expect(pool.submit(streams.count, 3)).rejects.toThrow(/count is a generator function.*stream\(fn, \.\.\.args\)/)
    await expect(pool.submit(function* () {
      yield 1
    })).rejects.toThrow(/is a generator function.*stream\(/)
    expect(() => [...pool.map(streams.count, [1, 2])]).toThrow(/stream\(/)
    // Not a generator function, but it returns a generator: it cannot be sent back.
    await expect(pool.submit(streams.makesGenerator, 2)).rejects.toThrow(/it is a generator: run the task with stream\(\)/)
    const made = pool.stream(streams.makesGenerator, 2)
    expect((await drain(made)).items).toEqual([0, 1])
  })

  it('a task that is not a generator, given to stream(), fails with a TypeError', async () => {
    const pool = make()
    // @ts-expect-error not a generator function
    const stream = pool.stream(streams.notAGenerator)
    const { error } = await drain(stream)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/stream\(\) runs a generator function .* returned number, not a generator/)
  })

  it('streamWith() checks its options as submitWith() does', () => {
    const pool = make()
    expect(() => pool.streamWith({ timeoutMs: -1 }, streams.count, 1)).toThrow(/^streamWith\(\) option timeoutMs must be a number of milliseconds/)
    expect(() => pool.streamWith(undefined as never, streams.count, 1)).toThrow(/^streamWith\(\) takes its options first: .* call stream\(fn, \.\.\.args\)$/)
    expect(() => pool.streamWith({ priorty: 1 } as never, streams.count, 1)).toThrow(/streamWith\(\)/)
  })
})

describe.runIf(haveRedis)('stream() on a QueueExecutor', () => {
  it('is refused with a TypeError that says why and what to do', () => {
    const ex: Executor = queueExecutor()
    expect(() => ex.stream(streams.count, 3)).toThrow(TypeError)
    expect(() => ex.stream(streams.count, 3)).toThrow(/cannot stream: its values cross Redis as one JSON result per job.*ThreadPoolExecutor or ProcessPoolExecutor/)
  })
})
