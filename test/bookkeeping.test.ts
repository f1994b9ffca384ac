// Bookkeeping under faults: capacities that cannot be overrun, slots freed
// only when nothing can touch them, results that survive their worker's
// exit, futures settled by the user, and waits that end.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { remote, TimeoutError, WorkerLost, withOptions, type Executor, type Future } from 'concurrent-futures'
import { localBackends, pool, processPool, tasks, until } from './helpers.js'

const fixtures = new URL('./fixtures/tasks.ts', import.meta.url)
type Counter = typeof import('./fixtures/tasks.js').Counter
type Waiter = typeof import('./fixtures/waiter.js').Waiter

/** Resolves to 'settled' or, after `ms`, 'hung'. */
function within(promise: Promise<unknown>, ms: number): Promise<'settled' | 'hung'> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.then(() => 'settled' as const, () => 'settled' as const),
    new Promise<'hung'>((resolve) => (timer = setTimeout(resolve, ms, 'hung'))),
  ]).finally(() => clearTimeout(timer))
}

/** Grows a worker's window (about 1 ms of tasks) past its first two jobs, so the next tasks share one batch. */
async function warm(ex: Executor): Promise<void> {
  for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 500 }, (_, i) => ex.submit(tasks.identity, i)))
}

describe.each(localBackends)('capacities on a $name', ({ make }) => {
  it('3,000 un-awaited calls on one remote object wait for task slots; unrelated tasks are untouched', async () => {
    const ex = make({ maxWorkers: 1 })
    const counter = await remote<Counter>(ex, fixtures, 'Counter')
    const calls = Array.from({ length: 3000 }, () => counter.add(1))
    const others = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.identity, i))
    const sums = await Promise.all(calls)
    expect(sums).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1))
    expect(await Promise.all(others)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    await counter[Symbol.asyncDispose]()
  })

  it('under maxQueued, remote() and its calls wait for room, as runInExecutor() does, and keep their order', async () => {
    const ex = make({ maxWorkers: 1, maxQueued: 1 })
    const busy = ex.submit(tasks.sleep, 300, 'busy')
    await until(() => busy.running())
    const queued = ex.submit(tasks.identity, 'queued') // the queue is full now
    expect(ex.hasRoom()).toBe(false)
    const counter = await remote<Counter>(ex, fixtures, 'Counter')
    const sums = await Promise.all(Array.from({ length: 20 }, () => counter.add(1)))
    expect(sums).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect([await busy, await queued]).toEqual(['busy', 'queued'])
    await counter[Symbol.asyncDispose]()
  })
})

describe('slots under onChildExit: replace', () => {
  it('a seeded fault loop: no future is ever settled with undefined, each gets its own outcome', async () => {
    let seed = 12
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const ex = processPool({ maxWorkers: 2, onChildExit: 'replace' })
    for (let round = 0; round < 3; round++) {
      const futures: Array<[Future<unknown>, 'value' | 'fault', number]> = []
      for (let i = 0; i < 100; i++) {
        const r = random()
        if (r < 0.04) futures.push([ex.submit(tasks.throwWhileWaiting), 'fault', i])
        else if (r < 0.08) futures.push([ex.submit(tasks.exit, 3), 'fault', i])
        else futures.push([ex.submit(tasks.identity, i), 'value', i])
      }
      await Promise.allSettled(futures.map(([f]) => f))
      for (const [future, kind, i] of futures) {
        const error = future.exception()
        if (kind === 'value') expect(error === undefined ? future.result() : error).toBe(i)
        else expect(error).toBeInstanceOf(WorkerLost)
      }
    }
  }, 120_000) // each fault costs a child's start-up
})

describe('a worker that exits sends what it finished first', () => {
  it('threads: 50 tasks finished before a process.exit() in the same batch keep their results', async () => {
    const ex = pool({ maxWorkers: 1 })
    await warm(ex)
    const shared = new SharedArrayBuffer(4)
    const done = Array.from({ length: 50 }, () => ex.submit(tasks.bump, shared))
    const exiting = ex.submit(tasks.exit, 5)
    const after = Array.from({ length: 20 }, (_, i) => ex.submit(tasks.identity, i))
    await Promise.allSettled([...done, exiting, ...after])
    expect(Atomics.load(new Int32Array(shared), 0)).toBe(50)
    expect(done.map((f) => f.exception())).toEqual(Array(50).fill(undefined))
    expect(exiting.exception()).toBeInstanceOf(WorkerLost)
    expect(after.map((f) => f.result())).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('threads: tasks finished before one killed after its interruptGraceMs keep their results', async () => {
    const ex = pool({ maxWorkers: 1, interruptGraceMs: 50 })
    await warm(ex)
    const shared = new SharedArrayBuffer(4)
    const done = Array.from({ length: 50 }, () => ex.submit(tasks.bump, shared))
    const stuck = ex.submitWith({ timeoutMs: 50 }, tasks.spinForever)
    const after = Array.from({ length: 20 }, (_, i) => ex.submit(tasks.identity, i))
    await Promise.allSettled([...done, stuck, ...after])
    expect(Atomics.load(new Int32Array(shared), 0)).toBe(50)
    expect(done.map((f) => f.exception())).toEqual(Array(50).fill(undefined))
    expect(stuck.exception()).toBeInstanceOf(TimeoutError)
    expect(after.map((f) => f.result())).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('processes (replace): the finished ones keep their results, the ones sent but never started run again', async () => {
    const ex = processPool({ maxWorkers: 1, onChildExit: 'replace' })
    await warm(ex)
    const log = `${fileURLToPath(new URL('.', import.meta.url))}../node_modules/.cf-exit-${process.pid}.log`
    const { rmSync, readFileSync } = await import('node:fs')
    rmSync(log, { force: true })
    const done = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.append, log, `d${i}`))
    const exiting = ex.submit(tasks.exit, 5)
    const after = Array.from({ length: 20 }, (_, i) => ex.submit(tasks.append, log, `a${i}`))
    await Promise.allSettled([...done, exiting, ...after])
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    rmSync(log, { force: true })
    // Each ran exactly once, and every future says so.
    expect(lines.filter((l) => l.startsWith('d'))).toHaveLength(50)
    expect(lines.filter((l) => l.startsWith('a')).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`).sort())
    expect([...done, ...after].map((f) => f.exception())).toEqual(Array(70).fill(undefined))
    expect(exiting.exception()).toBeInstanceOf(WorkerLost)
  })
})

describe.each(localBackends)('a future the user settles on a $name', ({ make }) => {
  it('setResult/setException/cancel before the task ends: shutdown still resolves, the late result is dropped', async () => {
    const ex = make({ maxWorkers: 1 })
    const running = ex.submit(tasks.sleep, 300, 'late')
    const queued = ex.submit(tasks.identity, 'late too')
    const third = ex.submit(tasks.identity, 'cancelled')
    await new Promise((resolve) => setTimeout(resolve, 50))
    running.setResult('mine')
    queued.setException(new RangeError('mine'))
    third.cancel()
    expect(await within(ex.shutdown(), 10_000)).toBe('settled')
    expect(running.result()).toBe('mine')
    expect(queued.exception()).toBeInstanceOf(RangeError)
  })
})

describe.each(localBackends)('waits for room end on a $name', ({ name }) => {
  it('a runInExecutor waiting under maxQueued ends with ExecutorShutdownError at shutdown, which resolves, at no CPU cost', async () => {
    const script = fileURLToPath(new URL('./fixtures/room-wait.ts', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, name], { timeout: 20_000 })
    const report = JSON.parse(stdout) as { waiting: string; running: string; queued: string; wallMs: number; cpuMs: number }
    expect(report).toMatchObject({ waiting: 'ExecutorShutdownError', running: 'ran', queued: 'queued' })
    // A spin would take one whole core for the whole wait; a wait takes next to nothing.
    expect(report.cpuMs).toBeLessThan(report.wallMs + 1000)
  })
})

describe.each(localBackends)('map under maxQueued on a $name', ({ make }) => {
  it('is paced by the queue instead of failing with QueueFullError and leaving its calls running', async () => {
    const ex = make({ maxWorkers: 1, maxQueued: 3 })
    expect([...ex.map(tasks.identity, Array.from({ length: 40 }, (_, i) => i))]).toEqual(Array.from({ length: 40 }, (_, i) => i))
    const results: number[] = []
    for await (const value of ex.map(tasks.identity, Array.from({ length: 40 }, (_, i) => i))) results.push(value as number)
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i))
  })
})

describe.each(localBackends)('remote calls with options on a $name', ({ make, name, replaceDead }) => {
  it('a call that never returns times out, the object is gone, shutdown resolves', async () => {
    const ex = make({ maxWorkers: 1, interruptGraceMs: 100, ...replaceDead })
    const counter = await remote<Counter>(ex, fixtures, 'Counter', 1)
    expect(await withOptions(counter, {}).add(1)).toBe(2)
    await expect(withOptions(counter, { timeoutMs: 100 }).hang()).rejects.toBeInstanceOf(TimeoutError)
    await expect(counter.add(1)).rejects.toThrow(/is gone/)
    expect(await within(ex.shutdown(), 10_000)).toBe('settled')
  })

  it('a signal aborts a call that has not started (its object lives on) or one that runs', async () => {
    const ex = make({ maxWorkers: 1, interruptGraceMs: 100, ...replaceDead })
    const counter = await remote<Counter>(ex, fixtures, 'Counter', 0)
    const controller = new AbortController()
    const busy = counter.slowAdd(1, 200)
    const aborted = withOptions(counter, { signal: controller.signal }).add(100)
    controller.abort(new Error('stop'))
    expect(await busy).toBe(1)
    await expect(aborted).rejects.toThrow()
    expect(await counter.add(1)).toBe(2)
    const stop = new AbortController()
    const hanging = withOptions(counter, { signal: stop.signal }).hang()
    setTimeout(() => stop.abort(new Error('enough')), 50)
    await expect(hanging).rejects.toThrow('enough')
    expect(await within(ex.shutdown(), 10_000)).toBe('settled')
  })

  // A thread claims a task as it starts it, so the call is still cancellable; a child's relay claimed it
  // as it sent it on, so the child holds it (task-runner waiting()) and starts it interrupted.
  it('a signal reaches a call its worker holds but has not started: cancelled (thread) or started interrupted (child)', async () => {
    const ex = make({ maxWorkers: 1, interruptGraceMs: 5000 })
    const waiter = await remote<Waiter>(ex, new URL('./fixtures/waiter.ts', import.meta.url), 'Waiter')
    const controller = new AbortController()
    const busy = waiter.sleep(400, 'busy')
    const interrupted = withOptions(waiter, { signal: controller.signal }).waitAbort()
    const after = waiter.sleep(1, 'after')
    await new Promise((resolve) => setTimeout(resolve, 150)) // sent on to the worker, behind the busy call
    controller.abort(new Error('stop'))
    if (name === 'ProcessPoolExecutor') expect(await Promise.all([busy, interrupted, after])).toEqual(['busy', 'aborted: stop', 'after'])
    else {
      await expect(interrupted).rejects.toMatchObject({ name: 'CancelledError' })
      expect(await Promise.all([busy, after])).toEqual(['busy', 'after'])
    }
    await waiter[Symbol.asyncDispose]()
  })

  it('signalled, timed and plain jobs interleaved on one worker, with cancels and timeouts, all finish', async () => {
    const ex = make({ maxWorkers: 1, interruptGraceMs: 100, ...replaceDead })
    for (let round = 0; round < 8; round++) {
      const controller = new AbortController()
      const futures = [
        ex.submitWith({ signal: controller.signal }, tasks.identity, `s${round}`),
        ex.submit(tasks.identity, `p${round}`),
        ex.submitWith({ timeoutMs: 5000 }, tasks.identity, `t${round}`),
      ]
      ex.submitWith({ signal: controller.signal }, tasks.sleepSync, 50).cancel()
      if (round % 4 === 0) await expect(ex.submitWith({ timeoutMs: 30 }, tasks.spinForever)).rejects.toBeInstanceOf(TimeoutError)
      expect(await within(Promise.all(futures), 10_000)).toBe('settled')
      expect(await Promise.all(futures)).toEqual([`s${round}`, `p${round}`, `t${round}`])
    }
  })

  it('options are checked at the door', async () => {
    const ex = make({ maxWorkers: 1 })
    const counter = await remote<Counter>(ex, fixtures, 'Counter')
    expect(() => withOptions(counter, { timeoutMs: -1 })).toThrow(RangeError)
    expect(() => withOptions(counter, { signal: 'no' as never })).toThrow(TypeError)
    expect(() => withOptions({} as never, {})).toThrow(TypeError)
    await counter[Symbol.asyncDispose]()
  })
})
