// How the QueueExecutor moves jobs in bulk: one addBulk per tick on the
// client, and workers that fetch jobs ahead of their pool while tasks are
// short. Whatever is batched, a future reports what its job did: cancel() is
// true exactly for the jobs that never ran. A real redis-server and real
// worker processes.

import { UnrecoverableError, Worker } from 'bullmq'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Future } from 'concurrent-futures'
import type { QueueExecutor } from 'concurrent-futures/queue'
import { tasks, until } from './helpers.js'
import { haveRedis, later, queueSuite, startWorker } from './queue-helpers.js'

describe.runIf(haveRedis)('QueueExecutor batches', () => {
  const suite = queueSuite('b')
  const { workers, executor, inspect } = suite
  const serveQueue = async (count: number): Promise<string> => (await suite.serveQueue(count)).queue

  const scratch = (): string => join(mkdtempSync(join(tmpdir(), 'cf-batches-')), 'log')
  const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean) : [])

  /** Short tasks, so that the workers take tasks to be short (they fetch ahead only then, and only while there is a backlog). */
  async function shortTasks(ex: QueueExecutor): Promise<void> {
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 20 }, () => ex.submit(tasks.add, 1, 1)))
  }

  /** A backlog of short tasks, so that the worker fetches ahead of what is submitted next in the same tick. */
  const backlog = (ex: QueueExecutor): Future<number>[] => Array.from({ length: 20 }, () => ex.submit(tasks.add, 1, 1))

  /**
   * One worker runs `first` (a long task) and holds `second` (which would write to `path`), fetched ahead
   * behind a backlog of short tasks; resolves once the worker said `first` started and Redis shows both active.
   */
  async function heldBehindALongTask(options: { signal?: AbortSignal }) {
    const ex = executor(await serveQueue(1))
    const raw = inspect(ex.queue)
    await shortTasks(ex)
    const path = scratch()
    backlog(ex)
    const first = ex.submit(tasks.sleep, 1000, 'first')
    const second = ex.submitWith(options, tasks.append, path, 'second')
    await until(() => first.running()) // named by the worker once it really started
    for (let i = 0; (await raw.getActiveCount()) !== 2; i++) {
      if (i > 200) throw new Error('the worker did not fetch the second job ahead of its pool')
      await later(10)
    }
    return { ex, raw, path, first, second }
  }

  /** Every future is done, and cancelled exactly when its line was never written; the others wrote theirs once. */
  function expectHonest(futures: Future<unknown>[], path: string): void {
    const written = lines(path)
    for (const [i, f] of futures.entries()) {
      expect(f.done()).toBe(true)
      expect([i, f.cancelled(), written.filter((line) => line === String(i)).length]).toEqual([i, f.cancelled(), f.cancelled() ? 0 : 1])
    }
  }

  describe('fetching ahead', () => {
    it('a job a worker fetched ahead of its pool is not running, cancel() is true, and it never runs', async () => {
      const { ex, raw, path, first, second } = await heldBehindALongTask({})
      expect(second.running()).toBe(false)
      expect(second.cancel()).toBe(true)
      expect(second.cancelled()).toBe(true)
      expect(first.result(10_000)).toBe('first')
      expect(ex.submit(tasks.add, 2, 2).result(10_000)).toBe(4)
      expect(existsSync(path)).toBe(false)
      const [failed] = await raw.getJobs(['failed'])
      expect(failed!.failedReason).toBe('cancelled by its submitter before it started')
    })

    it('an aborted signal cancels a job fetched ahead, which never runs', async () => {
      const controller = new AbortController()
      const { path, first, second } = await heldBehindALongTask({ signal: controller.signal })
      controller.abort(new Error('not needed'))
      expect(second.cancelled()).toBe(true)
      expect(first.result(10_000)).toBe('first')
      await later(200)
      expect(existsSync(path)).toBe(false)
    })

    it('a job its worker withdrew when asked is cancelled even when only its failure was read, not the answer', async () => {
      const ex = executor(suite.newQueue())
      const raw = inspect(ex.queue)
      const f = ex.submit(tasks.add, 1, 1)
      // A worker that withdraws the job without answering (what the relay sees when the answer was trimmed
      // away), once the cancel() below has stopped waiting for its answer.
      const connection = { host: '127.0.0.1', port: suite.redis.port }
      const worker = new Worker(ex.queue, () => later(100).then(() => Promise.reject(new UnrecoverableError('cancelled by its submitter before it started'))), { connection })
      try {
        for (let i = 0; (await raw.getActiveCount()) !== 1; i++) {
          if (i > 200) throw new Error('the worker did not fetch the job')
          await later(10)
        }
        expect(f.cancel()).toBe(false) // no answer came: this thread blocked the worker meanwhile
        await until(() => f.done())
        expect(f.cancelled()).toBe(true)
      } finally {
        await worker.close()
      }
    })

    it("a task's own CancelledError (a single job or a chunk) comes back as that error, never as a withdrawal", async () => {
      const ex = executor(await serveQueue(1))
      const f = ex.submit(tasks.throwCancelled, 'a future the task waited on was cancelled')
      await until(() => f.done())
      expect(f.cancelled()).toBe(false)
      expect(f.exception()).toMatchObject({ name: 'CancelledError', message: 'a future the task waited on was cancelled' })
      const chunked = ex.map(tasks.throwCancelled, ['in a chunk'], { chunksize: 2 })
      expect(() => [...chunked]).toThrow(expect.objectContaining({ name: 'CancelledError', message: 'in a chunk' }))
    })

    it("a task's own error that reads like a withdrawal, with no cancel asked, is that error, never a cancellation", async () => {
      const ex = executor(await serveQueue(1))
      const f = ex.submit(tasks.fail, 'cancelled by its submitter before it started')
      await until(() => f.done())
      expect(f.cancelled()).toBe(false)
      expect(f.exception()).toMatchObject({ message: 'cancelled by its submitter before it started' })
      // A foreign worker failing the job with that reason: the same.
      const foreign = executor(suite.newQueue())
      const g = foreign.submit(tasks.add, 1, 1)
      const connection = { host: '127.0.0.1', port: suite.redis.port }
      const worker = new Worker(foreign.queue, () => Promise.reject(new UnrecoverableError('cancelled by its submitter before it started')), { connection })
      try {
        await until(() => g.done())
        expect(g.cancelled()).toBe(false)
        expect(g.exception()).toMatchObject({ message: 'cancelled by its submitter before it started' })
      } finally {
        await worker.close()
      }
    })

    it('cancel() racing the start of jobs fetched ahead is true exactly for the jobs that never ran', async () => {
      const queue = await serveQueue(2)
      const ex = executor(queue)
      await shortTasks(ex)
      let cancelled = 0
      for (let round = 0; round < 4; round++) {
        const path = scratch()
        const futures = Array.from({ length: 40 }, (_, i) => ex.submit(tasks.sleepThenAppend, path, String(i), 3))
        // Cancels at many moments: unsent, waiting in Redis, fetched ahead, started.
        for (let i = round % 2; i < futures.length; i += 2) {
          if (i % 8 === 1) await later(i % 5)
          futures[i]!.cancel()
        }
        await Promise.allSettled(futures)
        expectHonest(futures, path)
        cancelled += futures.filter((f) => f.cancelled()).length
      }
      expect(cancelled).toBeGreaterThan(0)
    }, 60_000)
  })

  describe('one addBulk per tick', () => {
    it('a tick\'s jobs reach Redis as one batch, in the order submitted', async () => {
      const queue = suite.newQueue()
      const ex = executor(queue)
      const futures = Array.from({ length: 300 }, (_, i) => ex.submit(tasks.add, i, 1))
      const raw = inspect(queue)
      for (let i = 0; (await raw.getWaitingCount()) < 300; i++) {
        if (i > 500) throw new Error('the jobs did not reach Redis')
        await later(10)
      }
      const waiting = await raw.getWaiting(0, -1) // in the order workers take them
      expect(waiting.map((job) => job.data.args)).toEqual(Array.from({ length: 300 }, (_, i) => [i, 1]))
      // One addBulk: one timestamp for the whole tick, as one MULTI gives.
      expect(new Set(waiting.map((job) => job.timestamp)).size).toBeLessThanOrEqual(2)
      workers.push(startWorker(suite.redis, queue))
      expect(await Promise.all(futures)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    })

    it('a burst far larger than a read runs whole, each job once, and the futures get their own results', async () => {
      const queue = await serveQueue(2)
      const ex = executor(queue)
      const path = scratch()
      const n = 3000
      const futures = Array.from({ length: n }, (_, i) => ex.submit(tasks.append, path, String(i)))
      const sums = Array.from({ length: n }, (_, i) => ex.submit(tasks.add, i, i))
      await Promise.all(futures)
      expect(await Promise.all(sums)).toEqual(Array.from({ length: n }, (_, i) => 2 * i))
      expect(lines(path).sort()).toEqual(Array.from({ length: n }, (_, i) => String(i)).sort())
    }, 60_000)

    it('cancel() during the tick that submitted takes the job out of the batch: true, and it never reaches Redis', async () => {
      const queue = await serveQueue(1)
      const ex = executor(queue)
      const path = scratch()
      const futures = Array.from({ length: 10 }, (_, i) => ex.submit(tasks.append, path, String(i)))
      expect([futures[3]!.cancel(), futures[7]!.cancel()]).toEqual([true, true])
      await Promise.allSettled(futures)
      expectHonest(futures, path)
      expect(lines(path).sort()).toEqual(['0', '1', '2', '4', '5', '6', '8', '9']) // a worker fetching ahead may start them out of order
      const counts = await inspect(queue).getJobCounts()
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(8)
    })

    it('shutdown({ cancelFutures }) in the tick that submitted: every future done, cancelled exactly when it never ran', async () => {
      const queue = await serveQueue(1)
      const ex = executor(queue)
      const path = scratch()
      const futures = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.sleepThenAppend, path, String(i), 2))
      await ex.shutdown({ cancelFutures: true })
      expectHonest(futures, path)
    })

    it('shutdown() in the tick that submitted runs the whole batch', async () => {
      const queue = await serveQueue(1)
      const ex = executor(queue)
      const path = scratch()
      const futures = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.append, path, String(i)))
      await ex.shutdown()
      expect(futures.every((f) => f.done() && !f.cancelled())).toBe(true)
      expect(lines(path).sort()).toEqual(Array.from({ length: 50 }, (_, i) => String(i)).sort()) // each once, in whatever order the worker's fetches came
    })
  })
})
