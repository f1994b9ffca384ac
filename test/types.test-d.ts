import { describe, expectTypeOf, it } from 'vitest'
import { fromModule, Future, ThreadPoolExecutor, wait, type ReturnOf, type TaskRef, type TaskStream, type YieldOf } from 'concurrent-futures'
import * as loop from 'concurrent-futures/loop'
import { remote, withOptions, wrapSync, type AutoscaleOptions, type ProcessPoolOptions, type ProgressOf, type ProgressReporter } from 'concurrent-futures'
import { QueueExecutor, type QueueExecutorOptions } from 'concurrent-futures/queue'

const tasks = fromModule<typeof import('./fixtures/tasks.js')>(new URL('./fixtures/tasks.ts', import.meta.url))
const ex = new ThreadPoolExecutor()

describe('the types users rely on', () => {
  it('infers argument and result types from a module reference', () => {
    expectTypeOf(tasks.add).toEqualTypeOf<TaskRef<(a: number, b: number) => number>>()
    expectTypeOf(ex.submit(tasks.add, 1, 2)).toEqualTypeOf<Future<number>>()
    expectTypeOf(ex.submit(tasks.sleep, 5)).toEqualTypeOf<Future<unknown>>()
    expectTypeOf(ex.submit(tasks.thread).result()).toEqualTypeOf<{ threadId: number; name: string | undefined }>()
    // @ts-expect-error a string is not a number
    ex.submit(tasks.add, 1, '2')
    // @ts-expect-error too few arguments
    ex.submit(tasks.add, 1)
    // @ts-expect-error not an exported function
    void tasks.nothing
  })

  it('takes a priority per task, a number', () => {
    expectTypeOf(ex.submitWith({ priority: 1 }, tasks.add, 1, 2)).toEqualTypeOf<Future<number>>()
    expectTypeOf(loop.runInExecutorWith(ex, { priority: 1 }, tasks.add, 1, 2)).toEqualTypeOf<loop.LoopFuture<number>>()
    expectTypeOf([...ex.map(tasks.add, [1], [2], { priority: 1, chunksize: 2 })]).toEqualTypeOf<number[]>()
    // @ts-expect-error a priority is a number
    ex.submitWith({ priority: 'high' }, tasks.add, 1, 2)
  })

  it('infers from inline functions, unwrapping promises', () => {
    expectTypeOf(ex.submit((s: string) => s.length, 'abc')).toEqualTypeOf<Future<number>>()
    expectTypeOf(ex.submit(async (n: number) => [n], 1)).toEqualTypeOf<Future<number[]>>()
    // @ts-expect-error wrong argument type
    ex.submit((s: string) => s.length, 3)
  })

  it('types a Buffer as the Uint8Array it arrives as, wherever it is in a result', () => {
    type Bytes = Uint8Array<ArrayBuffer>
    expectTypeOf(ex.submit((text: string) => Buffer.from(text), 'x')).toEqualTypeOf<Future<Bytes>>()
    expectTypeOf(ex.submit(async () => ({ data: Buffer.from(''), list: [Buffer.from('')], when: new Date(0), n: 1 }))).toEqualTypeOf<Future<{ data: Bytes; list: Bytes[]; when: Date; n: number }>>()
    expectTypeOf(ex.submit(() => new Map([['k', Buffer.from('')]]))).toEqualTypeOf<Future<Map<string, Bytes>>>()
    expectTypeOf(ex.submit(() => new Uint8Array(1))).toEqualTypeOf<Future<Bytes>>()
    expectTypeOf(loop.runInExecutor(ex, () => Buffer.alloc(1))).toEqualTypeOf<loop.LoopFuture<Bytes>>()
  })

  it('types map over several iterables, with options last', () => {
    const results = ex.map(tasks.add, [1, 2], [3, 4], { chunksize: 2 })
    for (const value of results) expectTypeOf(value).toEqualTypeOf<number>()
    // @ts-expect-error strings are not numbers
    ex.map(tasks.add, ['1'], [2])
  })

  it('keeps futures covariant and awaitable', () => {
    const f: Future<unknown> = ex.submit(tasks.add, 1, 2)
    expectTypeOf(wait([f]).done).toEqualTypeOf<Set<Future<unknown>>>()
    const mixed = wait([ex.submit(tasks.add, 1, 2), ex.submit((s: string) => s, 'a')])
    expectTypeOf(mixed.done).toEqualTypeOf<Set<Future<number> | Future<string>>>()
    expectTypeOf<Awaited<Future<string>>>().toEqualTypeOf<string>()
    const lf: loop.LoopFuture<unknown> = loop.wrapFuture(ex.submit(tasks.add, 1, 2))
    expectTypeOf(lf).toEqualTypeOf<loop.LoopFuture<unknown>>()
  })
})

describe('progress', () => {
  it('infers the progress type from a task declared `this: ProgressReporter<P>`, by module reference or self-contained', () => {
    expectTypeOf(ex.submit(tasks.countUp, 3, 1)).toEqualTypeOf<Future<number, number>>()
    expectTypeOf<ProgressOf<typeof import('./fixtures/tasks.js').countUp>>().toEqualTypeOf<number>()
    expectTypeOf<ProgressOf<typeof import('./fixtures/tasks.js').add>>().toEqualTypeOf<unknown>()
    const inline = ex.submit(function (this: ProgressReporter<{ done: number; of: number }>, n: number) {
      this.reportProgress({ done: 0, of: n })
      return 'ok'
    }, 3)
    expectTypeOf(inline).toEqualTypeOf<Future<string, { done: number; of: number }>>()
    // As with results, a Buffer arrives as a Uint8Array.
    expectTypeOf(ex.submit(function (this: ProgressReporter<Buffer>) {})).toEqualTypeOf<Future<void, Uint8Array<ArrayBufferLike>>>()
    // A task without the declaration reports unknown values (reportProgress() from 'concurrent-futures/worker').
    expectTypeOf(ex.submit((n: number) => n, 1)).toEqualTypeOf<Future<number, unknown>>()
    // @ts-expect-error the task reports numbers
    ex.submit(function (this: ProgressReporter<number>) { this.reportProgress('half') })
  })

  it('types onProgress from the task, in submitWith(), runInExecutorWith() and on the future', async () => {
    ex.submitWith({ onProgress: (n) => expectTypeOf(n).toEqualTypeOf<number>() }, tasks.countUp, 3, 1)
    loop.runInExecutorWith(ex, { onProgress: (n) => expectTypeOf(n).toEqualTypeOf<number>() }, tasks.countUp, 3, 1)
    const f = ex.submit(tasks.countUp, 3, 1)
    f.onProgress((n) => expectTypeOf(n).toEqualTypeOf<number>())
    for await (const n of f.progress()) expectTypeOf(n).toEqualTypeOf<number>()
    expectTypeOf(f.progress()).toEqualTypeOf<AsyncIterableIterator<number>>()
    // @ts-expect-error the task reports numbers
    ex.submitWith({ onProgress: (s: string) => s }, tasks.countUp, 3, 1)
    // The queue too.
    const queued = null as unknown as QueueExecutor
    expectTypeOf(queued.submitWith({ onProgress: (n) => expectTypeOf(n).toEqualTypeOf<number>(), attempts: 2 }, tasks.countUp, 3, 1)).toEqualTypeOf<Future<number, number>>()
  })

  it('keeps Future covariant in its progress type', () => {
    const f = ex.submit(tasks.countUp, 3, 1)
    const wider: Future<unknown, unknown> = f
    const alsoWider: Future<number, number | string> = f
    void [wider, alsoWider]
    expectTypeOf(wait([f]).done).toEqualTypeOf<Set<Future<number, number>>>()
    // @ts-expect-error a future reporting numbers is not one reporting strings
    const narrower: Future<number, string> = f
    void narrower
  })
})

describe('streams', () => {
  const streams = fromModule<typeof import('./fixtures/streams.js')>(new URL('./fixtures/streams.ts', import.meta.url))

  it('infer what a generator task yields and returns, exported or self-contained, sync or async', async () => {
    expectTypeOf(ex.stream(streams.count, 3)).toEqualTypeOf<TaskStream<number, string>>()
    expectTypeOf(ex.stream(streams.countAsync, 3)).toEqualTypeOf<TaskStream<{ i: number }, number>>()
    expectTypeOf(ex.streamWith({ timeoutMs: 10 }, streams.produce, 'path')).toEqualTypeOf<TaskStream<number, string>>()
    const inline = ex.stream(function* (s: string) {
      yield s.length
      return Buffer.from(s)
    }, 'abc')
    expectTypeOf(inline).toEqualTypeOf<TaskStream<number, Uint8Array<ArrayBuffer>>>() // the Buffer arrives as a Uint8Array
    expectTypeOf(ex.stream(async function* () {
      yield await Promise.resolve('x')
    })).toEqualTypeOf<TaskStream<string, void>>()
    for await (const item of ex.stream(streams.countAsync, 3)) expectTypeOf(item).toEqualTypeOf<{ i: number }>()
    expectTypeOf(ex.stream(streams.count, 3).result).toEqualTypeOf<Future<string>>()
    expectTypeOf<YieldOf<typeof import('./fixtures/streams.js').count>>().toEqualTypeOf<number>()
    expectTypeOf<ReturnOf<typeof import('./fixtures/streams.js').countAsync>>().toEqualTypeOf<number>()
    // @ts-expect-error count takes a number
    ex.stream(streams.count, '3')
    // @ts-expect-error not a generator function
    ex.stream(streams.notAGenerator)
    // @ts-expect-error not a generator function
    ex.stream((n: number) => n, 1)
  })
})

describe('the loop side', () => {
  it('keeps result types across the bridge', () => {
    expectTypeOf(loop.wrapFuture(ex.submit(tasks.add, 1, 2))).toEqualTypeOf<loop.LoopFuture<number>>()
    expectTypeOf(loop.runInExecutor(ex, tasks.add, 1, 2)).toEqualTypeOf<loop.LoopFuture<number>>()
    expectTypeOf(loop.runInExecutor(null, (s: string) => s.length, 'abc')).toEqualTypeOf<loop.LoopFuture<number>>()
    expectTypeOf(loop.toThread(tasks.thread).result().name).toEqualTypeOf<string | undefined>()
    // @ts-expect-error a string is not a number
    loop.runInExecutor(ex, tasks.add, 1, '2')
    // @ts-expect-error a number is not a future
    loop.wrapFuture(42)
  })

  it('types gather as a tuple, with errors in place under returnExceptions', () => {
    const g = loop.gather(ex.submit(tasks.add, 1, 2), loop.sleep(1, 'x'), Promise.resolve(true))
    expectTypeOf(g).toEqualTypeOf<loop.LoopFuture<[number, string, boolean]>>()
    const e = loop.gather(Promise.resolve(1), loop.sleep(1, 'x'), { returnExceptions: true })
    expectTypeOf(e).toEqualTypeOf<loop.LoopFuture<[number | Error, string | Error]>>()
    expectTypeOf(loop.waitFor(ex.submit(tasks.add, 1, 2), 100)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(loop.shield(Promise.resolve('s'))).toEqualTypeOf<loop.LoopFuture<string>>()
    expectTypeOf(loop.sleep(1)).toEqualTypeOf<loop.LoopFuture<void>>()
  })

  it('keeps the awaitables in wait, and yields their values from asCompleted', async () => {
    const f = loop.sleep(1, 1)
    const { done } = await loop.wait([f])
    expectTypeOf(done).toEqualTypeOf<Set<loop.LoopFuture<number>>>()
    for await (const value of loop.asCompleted([f, Promise.resolve('s')])) expectTypeOf(value).toEqualTypeOf<number | string>()
    for await (const { awaitable } of loop.asCompleted([f, Promise.resolve('s')], { futures: true })) {
      expectTypeOf(awaitable).toEqualTypeOf<loop.LoopFuture<number> | Promise<string>>()
    }
  })

  it('types the tasks of a TaskGroup from what they run, and the callback forms from their bodies', async () => {
    await using tg = new loop.TaskGroup()
    expectTypeOf(tg.run(ex, tasks.add, 1, 2)).toEqualTypeOf<loop.LoopFuture<number>>()
    expectTypeOf(tg.createTask(Promise.resolve('s'))).toEqualTypeOf<loop.LoopFuture<string>>()
    expectTypeOf(tg.createTask(async (signal: AbortSignal) => Number(signal.aborted))).toEqualTypeOf<loop.LoopFuture<number>>()
    // @ts-expect-error add takes numbers
    void tg.run(ex, tasks.add, 1, 'two')
    expectTypeOf(loop.withTaskGroup(async () => 'v')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(loop.withTimeout(10, (t) => loop.sleep(1, t.expired()))).toEqualTypeOf<Promise<boolean>>()
    using t = loop.timeout(10)
    expectTypeOf(t.when()).toEqualTypeOf<number | null>()
    expectTypeOf(t.signal).toEqualTypeOf<AbortSignal>()
    expectTypeOf(loop.timeoutAt(null)).toEqualTypeOf<loop.Timeout>()
    expectTypeOf(new loop.ExceptionGroup([]).exceptions).toEqualTypeOf<readonly unknown[]>()
  })

  it('has terminateWorkers() and killWorkers() on the pools', () => {
    expectTypeOf(ex.terminateWorkers()).toEqualTypeOf<Promise<void>>()
    expectTypeOf(ex.killWorkers()).toEqualTypeOf<Promise<void>>()
  })
})

describe('the proxies', () => {
  it('type a wrapped sync module from the module itself', () => {
    const zlib = wrapSync<typeof import('node:zlib')>(ex, 'node:zlib')
    expectTypeOf(zlib.gzipSync('text')).toEqualTypeOf<loop.LoopFuture<Uint8Array<ArrayBuffer>>>() // its Buffer arrives as a Uint8Array
    // @ts-expect-error a number is not an InputType
    void zlib.gzipSync(42)
    // @ts-expect-error not a function of node:zlib
    void zlib.constants
  })

  it('type a remote object from its class', async () => {
    const counter = await remote<typeof import('./fixtures/tasks.js').Counter>(ex, new URL('./fixtures/tasks.ts', import.meta.url), 'Counter', 1)
    expectTypeOf(counter.add(1)).toEqualTypeOf<loop.LoopFuture<number>>()
    expectTypeOf(counter.count).toEqualTypeOf<PromiseLike<number>>()
    // @ts-expect-error add takes a number
    void counter.add('1')
    // @ts-expect-error the constructor takes a number
    void remote<typeof import('./fixtures/tasks.js').Counter>(ex, 'm', 'Counter', 'one')
  })

  it('a view of a remote object with call options has its type', async () => {
    const counter = await remote<typeof import('./fixtures/tasks.js').Counter>(ex, new URL('./fixtures/tasks.ts', import.meta.url), 'Counter', 1)
    const timed = withOptions(counter, { timeoutMs: 100, signal: AbortSignal.timeout(1000) })
    expectTypeOf(timed).toEqualTypeOf(counter)
    expectTypeOf(timed.add(1)).toEqualTypeOf<loop.LoopFuture<number>>()
    // @ts-expect-error only signal and timeoutMs
    void withOptions(counter, { transfer: [] })
    // @ts-expect-error an object's calls run in order: no priority
    void withOptions(counter, { priority: 1 })
    // @ts-expect-error only a remote object has a view
    void withOptions({ add: (n: number) => n }, {})
  })
})

describe('the queue executor', () => {
  // Type-level only: never constructed, so no Redis is needed.
  const queued = null as unknown as QueueExecutor

  it('infers like the local executors, from the same task references', () => {
    expectTypeOf(queued.submit(tasks.add, 1, 2)).toEqualTypeOf<Future<number>>()
    expectTypeOf(queued.submitWith({ attempts: 3, backoff: { type: 'exponential', delay: 100 }, timeoutMs: 1000 }, tasks.add, 1, 2)).toEqualTypeOf<Future<number>>()
    expectTypeOf([...queued.map(tasks.add, [1], [2], { chunksize: 8 })]).toEqualTypeOf<number[]>()
    expectTypeOf(loop.runInExecutor(queued, tasks.add, 1, 2)).toEqualTypeOf<loop.LoopFuture<number>>()
    // @ts-expect-error a string is not a number
    queued.submit(tasks.add, 1, '2')
    // @ts-expect-error transfer lists do not cross Redis
    queued.submitWith({ transfer: [] }, tasks.add, 1, 2)
    expectTypeOf(queued.submitWith({ priority: 3 }, tasks.add, 1, 2)).toEqualTypeOf<Future<number>>()
    // @ts-expect-error a priority is a number
    queued.submitWith({ priority: '3' }, tasks.add, 1, 2)
  })

  it('takes a URL or connection options, and a queue name', () => {
    expectTypeOf<{ connection: 'redis://h:6379'; queue: 'q' }>().toMatchTypeOf<QueueExecutorOptions>()
    expectTypeOf<{ connection: { host: 'h'; port: 6379 }; queue: 'q'; attempts: 2 }>().toMatchTypeOf<QueueExecutorOptions>()
    // @ts-expect-error the queue name is required
    expectTypeOf<{ connection: 'redis://h' }>().toMatchTypeOf<QueueExecutorOptions>()
  })
})


it('autoscale: a flag or its options; workerCount is a number', () => {
  expectTypeOf(new ThreadPoolExecutor({ autoscale: true }).workerCount).toEqualTypeOf<number>()
  expectTypeOf<ProcessPoolOptions['autoscale']>().toEqualTypeOf<boolean | AutoscaleOptions | undefined>()
  // @ts-expect-error maxWorkers stays a number: autoscale is its own option
  new ThreadPoolExecutor({ maxWorkers: 'auto' })
})
