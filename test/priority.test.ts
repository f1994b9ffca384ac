// Priorities (submitWith({ priority })): lower first, first submitted first
// within a priority, on both local pools and on the queue. The order is
// observed by a single worker held busy while the work is submitted, through
// what the tasks record (a file, or a counter in shared memory).

import fc from 'fast-check'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { fromModule, MAX_PRIORITY, remote, withOptions, WorkerLost, type Executor, type Future } from 'concurrent-futures'
import { runInExecutorWith } from 'concurrent-futures/loop'
import { JobQueue } from '../src/executors/job-queue.js'
import type { Job } from '../src/executors/job.js'
import { localBackends, pool, tasks, until } from './helpers.js'
import { haveRedis, queueSuite } from './queue-helpers.js'

const gated = fromModule<typeof import('./fixtures/gate.js')>(new URL('./fixtures/gate.ts', import.meta.url))
const scratch = (): string => join(mkdtempSync(join(tmpdir(), 'cf-priority-')), 'order')
const lines = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n')

/** The labels `${priority}:${index}` in the order they must start: by priority, then as submitted. */
function expectedOrder(priorities: readonly number[]): string[] {
  return priorities.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i).map(({ p, i }) => `${p}:${i}`)
}

/**
 * Submits a task that appends 'blocker' to `path` after `ms`, and resolves once it runs: the next submits
 * wait. (Should a slow machine let it end unseen, the order the tests check is the same: submitted in one
 * tick, the tasks are dispatched together, in order.)
 */
async function holdBusy(ex: Executor, path: string, ms: number): Promise<Future<void>> {
  const blocker = ex.submit(tasks.sleepThenAppend, path, 'blocker', ms)
  await until(() => blocker.running() || blocker.done())
  return blocker
}

/** The worst values for a priority, and what they must be refused with. */
const badPriorities: Array<[unknown, ErrorConstructor]> = [
  [NaN, RangeError], [-1, RangeError], [1.5, RangeError], [2 ** 21, RangeError], [2 ** 21 + 1, RangeError], [Infinity, RangeError], [-Infinity, RangeError],
  ['1', TypeError], [10n, TypeError], [null, TypeError], [true, TypeError], [{ valueOf: () => 1 }, TypeError],
]

function refusesBadPriorities(submit: (priority: unknown) => unknown, door: string): void {
  for (const [bad, kind] of badPriorities) {
    let thrown: unknown
    try {
      submit(bad)
    } catch (error) {
      thrown = error
    }
    expect(thrown, `priority ${String(bad)} is refused`).toBeInstanceOf(kind)
    expect((thrown as Error).message).toMatch(new RegExp(`^${door} option priority must be an integer from 0 to 2097151 \\(BullMQ's largest; lower runs first\\), got `))
  }
}

for (const backend of localBackends) {
  describe(`${backend.name}: priority`, () => {
    it('a single busy worker starts the waiting tasks lower priority first, first submitted first within one', async () => {
      const ex = backend.make({ maxWorkers: 1 })
      const path = scratch()
      await holdBusy(ex, path, 100)
      const priorities = [5, 0, 3, 5, 0, 1, MAX_PRIORITY, 3, 0, 1]
      // submit() is priority 0: its tasks go with the other 0s, in submit order.
      const futures = priorities.map((p, i) => (p === 0 && i % 2 === 0 ? ex.submit(tasks.append, path, `${p}:${i}`) : ex.submitWith({ priority: p }, tasks.append, path, `${p}:${i}`)))
      await Promise.all(futures)
      expect(lines(path)).toEqual(['blocker', ...expectedOrder(priorities)])
    })

    it('orders only waiting tasks: one already handed to the worker is not overtaken', async () => {
      const ex = backend.make({ maxWorkers: 1 })
      const path = scratch()
      const gate = `${path}.open`
      await ex.submit(tasks.sleepSync, 5) // a worker whose tasks take this long holds two: the one it runs and the next
      const blocker = ex.submit(gated.holdUntilExists, gate)
      const backlog = [0, 1, 2, 3].map((i) => ex.submitWith({ priority: 10 }, tasks.append, path, `backlog ${i}`))
      let urgent: Future<void>
      try {
        await until(() => blocker.running())
        urgent = ex.submit(tasks.append, path, 'urgent')
        await Promise.resolve() // dispatched while the worker is held
      } finally {
        writeFileSync(gate, '') // however the test fails: the pool's shutdown waits for its worker
      }
      await Promise.all([blocker, urgent, ...backlog])
      expect(lines(path)).toEqual(['backlog 0', 'urgent', 'backlog 1', 'backlog 2', 'backlog 3'])
    })

    it('tasks taken back from a lost worker go back to the head of their own priority', async () => {
      const ex = backend.make({ maxWorkers: 1, ...backend.replaceDead })
      const path = scratch()
      await ex.submit(tasks.sleepSync, 5) // ready, and holding two tasks at a time
      const dying = ex.submit(tasks.exit, 3)
      const handed = ex.submitWith({ priority: 1 }, tasks.append, path, 'A') // handed over with `dying`, never started
      await Promise.resolve() // dispatched; the pool hears of the exit only from the event loop, after this
      const waiting = [
        ex.submitWith({ priority: 1 }, tasks.append, path, 'B'),
        ex.submitWith({ priority: 0 }, tasks.append, path, 'D'),
        ex.submitWith({ priority: 2 }, tasks.append, path, 'C'),
      ]
      expect(await dying.then(() => undefined, (error: unknown) => error)).toBeInstanceOf(WorkerLost)
      await Promise.all([handed, ...waiting])
      // At the head of the whole queue it would be A, D, B, C; at the tail of its priority D, B, A, C.
      expect(lines(path)).toEqual(['D', 'A', 'B', 'C'])
    })

    it('refuses a priority that is not an integer from 0 to MAX_PRIORITY, naming the range; the pool keeps working', async () => {
      const ex = backend.make({ maxWorkers: 1 })
      expect(MAX_PRIORITY).toBe(2 ** 21 - 1)
      refusesBadPriorities((priority) => ex.submitWith({ priority: priority as number }, tasks.add, 1, 2), 'submitWith\\(\\)')
      refusesBadPriorities((priority) => runInExecutorWith(ex, { priority: priority as number }, tasks.add, 1, 2), 'submitWith\\(\\)')
      expect(await ex.submitWith({ priority: 0 }, tasks.add, 1, 2)).toBe(3)
      expect(await ex.submitWith({ priority: MAX_PRIORITY }, tasks.add, 2, 2)).toBe(4)
    })
  })
}

describe('priority, on a thread pool', () => {
  it('runInExecutorWith() passes it through', async () => {
    const ex = pool({ maxWorkers: 1 })
    const path = scratch()
    await holdBusy(ex, path, 100)
    const late = runInExecutorWith(ex, { priority: 2 }, tasks.append, path, 'late')
    const early = runInExecutorWith(ex, { priority: 1 }, tasks.append, path, 'early')
    await Promise.all([late, early])
    expect(lines(path)).toEqual(['blocker', 'early', 'late'])
  })

  it('map() gives every task of the map its priority, chunks too, and checks it as submitWith() does', async () => {
    const ex = pool({ maxWorkers: 1 })
    const path = scratch()
    await holdBusy(ex, path, 100)
    const late = ex.submitWith({ priority: 2 }, tasks.append, path, 'late')
    const single = ex.map(tasks.append, [path, path], ['one 1', 'one 2'], { priority: 1 })
    const chunked = ex.map(tasks.append, [path, path], ['chunk 1', 'chunk 2'], { priority: 0, chunksize: 2 })
    for await (const _ of single);
    for await (const _ of chunked);
    await late
    expect(lines(path)).toEqual(['blocker', 'chunk 1', 'chunk 2', 'one 1', 'one 2', 'late'])
    refusesBadPriorities((priority) => ex.map(tasks.add, [1], [2], { priority: priority as number }), 'map\\(\\)')
  })

  it('a remote object\'s calls keep their order among prioritized work, and take no priority themselves', async () => {
    const ex = pool({ maxWorkers: 1 })
    await using counter = await remote<typeof import('./fixtures/tasks.js').Counter>(ex, new URL('./fixtures/tasks.ts', import.meta.url), 'Counter')
    const path = scratch()
    await holdBusy(ex, path, 100)
    const backlog = [3, 1, 2].map((p) => ex.submitWith({ priority: p }, tasks.append, path, `${p}`))
    const sums = [counter.add(1), counter.add(2), counter.add(3), counter.add(4)]
    expect(await Promise.all(sums)).toEqual([1, 3, 6, 10])
    await Promise.all(backlog)
    expect(lines(path)).toEqual(['blocker', '1', '2', '3'])
    expect(() => withOptions(counter, { priority: 1 } as never)).toThrow(
      new TypeError("unknown option 'priority' for withOptions(): an object's calls run in the order they are made, so they take no priority"),
    )
  })

  it('any submits with any priorities start in (priority, submit order) order on a busy single worker (property)', async () => {
    const ex = pool({ maxWorkers: 1 })
    const shared = new SharedArrayBuffer(4)
    const gate = new Int32Array(new SharedArrayBuffer(4))
    const priority = fc.option(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_PRIORITY }), fc.constantFrom(0, MAX_PRIORITY)), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(fc.array(priority, { maxLength: 60 }), async (priorities) => {
        Atomics.store(gate, 0, 0)
        const blocker = ex.submit(gated.holdUntilOpen, gate.buffer as SharedArrayBuffer)
        let futures: Array<Future<number>>
        try {
          await until(() => blocker.running())
          // Each task takes the next number of the shared counter as it runs: the order they ran in.
          futures = priorities.map((p) => (p === undefined ? ex.submit(tasks.bump, shared) : ex.submitWith({ priority: p }, tasks.bump, shared)))
          await Promise.resolve() // dispatched, while the worker is held
        } finally {
          Atomics.store(gate, 0, 1) // however the run fails: the pool's shutdown waits for its worker
          Atomics.notify(gate, 0)
        }
        const ran = await Promise.all(futures)
        const byRun = priorities.map((_, i) => i).sort((a, b) => ran[a]! - ran[b]!)
        const expected = priorities.map((p, i) => ({ p: p ?? 0, i })).sort((a, b) => a.p - b.p || a.i - b.i).map(({ i }) => i)
        expect(byRun).toEqual(expected)
      }),
      { numRuns: 100 },
    )
  })
})

describe('JobQueue (property)', () => {
  /** Jobs as the queue sees them: a priority, an id in submit order, and whether it was cancelled. */
  type Fake = Pick<Job, 'priority' | 'id' | 'waiting'> & { cancelled: boolean; future: { done(): boolean } }
  const fake = (priority: number, id: number): Fake => {
    const job: Fake = { priority, id, waiting: false, cancelled: false, future: { done: () => job.cancelled } }
    return job
  }
  const op = fc.oneof(
    { arbitrary: fc.record({ push: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: MAX_PRIORITY })) }), weight: 4 },
    { arbitrary: fc.record({ take: fc.integer({ min: 1, max: 5 }) }), weight: 2 },
    { arbitrary: fc.record({ giveBack: fc.array(fc.nat(), { maxLength: 8 }) }), weight: 1 },
    { arbitrary: fc.record({ cancel: fc.nat() }), weight: 1 },
    // Bursts, so the cancelled outnumber the live and past 64 of them a sweep runs amid the rest.
    { arbitrary: fc.record({ pushMany: fc.integer({ min: 1, max: 100 }) }), weight: 1 },
    { arbitrary: fc.record({ cancelMany: fc.integer({ min: 1, max: 100 }) }), weight: 1 },
  )

  it('always gives the waiting job lowest in (priority, submit order), whatever was taken, given back or cancelled, in any order; room counts only live jobs', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200, size: 'medium' }), fc.integer({ min: 1, max: 30 }), (ops, maxQueued) => {
        const queue = new JobQueue(maxQueued)
        const waiting: Fake[] = [] // the model: the jobs waiting, in any order, cancelled ones included
        const held: Fake[] = [] // taken, as workers hold them
        let id = 1
        const byOrder = (a: Fake, b: Fake): number => a.priority - b.priority || a.id - b.id
        const live = (): Fake[] => waiting.filter((job) => !job.cancelled).sort(byOrder)
        for (const step of ops) {
          if ('push' in step) {
            const job = fake(step.push, id++)
            queue.push(job as unknown as Job)
            waiting.push(job)
          } else if ('take' in step) {
            // As dispatch does: a cancelled job met at the head is dropped.
            for (let k = 0; k < step.take && queue.peek(); ) {
              const job = queue.peek() as unknown as Fake
              if (!job.cancelled) expect(job).toBe(live()[0])
              queue.shift()
              waiting.splice(waiting.indexOf(job), 1)
              if (job.cancelled) continue
              held.push(job)
              k++
            }
          } else if ('pushMany' in step) {
            for (let k = 0; k < step.pushMany; k++) {
              const job = fake(k % 3, id++)
              queue.push(job as unknown as Job)
              waiting.push(job)
            }
          } else if ('cancelMany' in step) {
            for (const job of waiting.filter((job) => !job.cancelled).slice(0, step.cancelMany)) {
              job.cancelled = true
              queue.settled(job as unknown as Job)
            }
          } else if ('cancel' in step) {
            const pending = waiting.filter((job) => !job.cancelled)
            if (pending.length === 0) continue
            const job = pending[step.cancel % pending.length]!
            job.cancelled = true
            queue.settled(job as unknown as Job)
          } else {
            // Jobs taken come back, in any order: a lost worker's in the order it was given them, but
            // workers are lost one after another, and a job can come back alone.
            const back: Fake[] = []
            for (const pick of step.giveBack) if (held.length > 0) back.push(...held.splice(pick % held.length, 1))
            queue.putBack(back as unknown as Job[])
            waiting.push(...back)
          }
          expect(queue.hasRoom()).toBe(live().length < maxQueued)
          expect(queue.length).toBeLessThanOrEqual(2 * live().length + 64) // the cancelled are swept in time
          expect((queue.all() as unknown as Fake[]).filter((job) => !job.cancelled)).toEqual(live())
        }
        expect((queue.takeAll() as unknown as Fake[]).filter((job) => !job.cancelled)).toEqual(live())
        expect(queue.length).toBe(0)
        expect(queue.peek()).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })
})

describe('JobQueue memory', () => {
  it('a cancel-and-submit storm on a full queue: each cancel frees one place at once, and the cancelled are swept before they outnumber the live', () => {
    const queue = new JobQueue(1000)
    const jobs: Array<Job & { cancelled: boolean }> = []
    const push = (id: number): void => {
      const job = { priority: id % 3, id, waiting: false, cancelled: false, future: { done: () => job.cancelled } }
      jobs.push(job as unknown as Job & { cancelled: boolean })
      queue.push(job as unknown as Job)
    }
    for (let id = 0; id < 1000; id++) push(id)
    let largest = 0
    for (let i = 0; i < 20_000; i++) {
      expect(queue.hasRoom()).toBe(false)
      const job = jobs[i]!
      job.cancelled = true
      queue.settled(job)
      expect(queue.hasRoom()).toBe(true)
      push(1000 + i)
      largest = Math.max(largest, queue.length)
    }
    expect(largest).toBeLessThanOrEqual(2 * 1000 + 1)
    const live = queue.all().filter((job) => !job.future.done())
    expect(live.map((job) => job.id).sort((a, b) => a - b)).toEqual(jobs.slice(-1000).map((job) => job.id))
  })

  it('lets go of the jobs it gave out, though it never empties (a producer refilling it as it drains)', async () => {
    setFlagsFromString('--expose_gc')
    const gc = runInNewContext('gc') as () => void
    for (const priority of [0, 7]) {
      const queue = new JobQueue(Infinity)
      const taken: Array<WeakRef<object>> = []
      queue.push({ priority, id: 0 } as Job)
      for (let id = 1; id <= 1000; id++) {
        queue.push({ priority, id } as Job)
        taken.push(new WeakRef(queue.peek()!))
        queue.shift()
      }
      await new Promise((resolve) => setImmediate(resolve)) // WeakRefs made in a turn are kept through it
      gc()
      expect(taken.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(10)
      expect(queue.length).toBe(1)
    }
  })
})

describe.runIf(haveRedis)('QueueExecutor: priority', () => {
  const suite = queueSuite('priority')

  it('maps to BullMQ\'s: one worker of concurrency 1 starts 0 (no BullMQ priority) first, then lower first, FIFO within one', async () => {
    const { queue } = await suite.serveQueue(1)
    const ex = suite.executor(queue)
    const path = scratch()
    await holdBusy(ex, path, 300)
    // 0s submitted after prioritized jobs still start before all of them: BullMQ runs jobs without a priority first.
    const priorities = [5, 1, 3, 0, 5, 1, MAX_PRIORITY, 0, 3, 2, 0]
    const futures = priorities.map((p, i) => (p === 0 && i % 2 === 1 ? ex.submit(tasks.append, path, `${p}:${i}`) : ex.submitWith({ priority: p }, tasks.append, path, `${p}:${i}`)))
    await Promise.all(futures)
    expect(lines(path)).toEqual(['blocker', ...expectedOrder(priorities)])
    const jobs = (await suite.inspect(queue).getJobs(['completed'])).filter((job) => job.data.args[1] !== 'blocker')
    expect(new Map(jobs.map((job) => [job.data.args[1], job.priority]))).toEqual(new Map(priorities.map((p, i) => [`${p}:${i}`, p])))
  })

  it('refuses a bad priority as the pools do', async () => {
    const { queue } = await suite.serveQueue(1)
    const ex = suite.executor(queue)
    refusesBadPriorities((priority) => ex.submitWith({ priority: priority as number }, tasks.add, 1, 2), 'QueueExecutor submitWith\\(\\)')
    expect(await ex.submitWith({ priority: MAX_PRIORITY }, tasks.add, 2, 2)).toBe(4)
  })
})
