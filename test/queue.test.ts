// What the QueueExecutor promises beyond the shared Executor tests: retries,
// timeouts, cancel and interrupt across machines, lost workers, and Redis
// going away. A real redis-server and real worker processes, killed for real.

import { Queue, Worker as BullWorker, type Job } from 'bullmq'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { fromModule, taskRef, TimeoutError, WorkerLost, type Future } from 'concurrent-futures'
import { JobLost, QueueExecutor, QueueUnavailable, type QueueExecutorOptions } from 'concurrent-futures/queue'
import { tasks, until } from './helpers.js'
import type { ThrownSpec } from './fixtures/hostile.js'
import { eventually, haveRedis, later, queueSuite, startRedis, startWorker, tasksModule, withRedis, type RedisServer, type WorkerProcess } from './queue-helpers.js'

const hostileModule = new URL('./fixtures/hostile.ts', import.meta.url)
const hostile = fromModule<typeof import('./fixtures/hostile.js')>(hostileModule)

describe.runIf(haveRedis)('QueueExecutor', () => {
  const suite = queueSuite('q')
  const { workers, executors, serveQueue, executor, inspect } = suite
  let redis: RedisServer
  beforeAll(() => {
    redis = suite.redis
  })

  const scratch = (): string => join(mkdtempSync(join(tmpdir(), 'cf-queue-')), 'log')
  const lines = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n')

  describe('jobs', () => {
    it('carry a task name and JSON arguments only; an unknown name fails at once, without retries', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue, { attempts: 3, backoff: 5000 })
      expect(ex.submit(tasks.add, 2, 3).result(10_000)).toBe(5)
      const unknown = ex.submit(taskRef<() => void>(new URL('./fixtures/elsewhere.js', import.meta.url), 'nope'))
      expect(() => unknown.result(10_000)).toThrow(/unknown task 'nope': this worker serves .*\badd\b/)
      const [failed] = await inspect(queue).getJobs(['failed'])
      expect(failed!.name).toBe('nope')
      expect(failed!.attemptsMade).toBe(1)
      expect(failed!.data).toEqual({ args: [] })
      const [done] = await inspect(queue).getJobs(['completed'])
      expect(JSON.stringify(done!.data)).not.toMatch(/fixtures|tasks\.ts/)
    })

    it('bring errors back with class name, message and the remote stack above the submit site', async () => {
      const { queue } = await serveQueue(1)
      const error = executor(queue).submit(tasks.fail, 'nope').exception(10_000) as Error
      expect(error).toBeInstanceOf(RangeError)
      expect(error.message).toBe('nope')
      expect(error.stack).toMatch(/at fail \(.*tasks\.ts[\s\S]*--- submitted from ---[\s\S]*queue\.test\.ts/)
      const big = executor(queue).submit(tasks.failWithBigInt).exception(10_000) as Error & { size?: bigint }
      expect([big instanceof RangeError, big.size]).toEqual([true, undefined]) // the class survives the property JSON drops
      expect(big.message).toMatch(/^too big \[property size not sent: a bigint/)
    })

    it('a hostile error name or a BigInt property crashes neither the worker nor the client (issue 12)', async () => {
      const { queue, served } = await serveQueue(1, '--tasks', fileURLToPath(hostileModule))
      const ex = executor(queue)
      const thrown: ThrownSpec[] = [
        ...['__proto__', 'toString', 'constructor', 'hasOwnProperty'].map((name): ThrownSpec => ({
          error: { class: 'Error', message: name, name, props: [['__proto__', { json: { polluted: true } }]], throwing: [], cause: { error: { class: 'Error', message: 'inner', name, props: [], throwing: [] } } },
        })),
        { error: { class: 'RangeError', message: 'too big', props: [['size', { bigint: '10' }], ['unit', { json: 'bytes' }]], throwing: ['code'] } },
        { value: { bigint: '10' } },
      ]
      const errors = await Promise.all(thrown.map((spec) => ex.submit(hostile.throwSpec, spec).then(() => undefined, (error: unknown) => error as Error & Record<string, unknown>)))
      for (const [i, name] of ['__proto__', 'toString', 'constructor', 'hasOwnProperty'].entries()) {
        expect(Object.getPrototypeOf(errors[i])).toBe(Error.prototype) // toEqual would take any error prototype
        expect([errors[i]!.name, (errors[i]!.cause as Error).name]).toEqual([name, name])
        expect(Object.getOwnPropertyDescriptor(errors[i], '__proto__')?.value).toEqual({ polluted: true })
      }
      expect(errors[4]).toBeInstanceOf(RangeError)
      expect([errors[4]!.unit, errors[4]!.size]).toEqual(['bytes', undefined])
      // Noted where each was lost: the getter on the worker's thread, the BigInt on the way to Redis.
      expect(errors[4]!.message).toMatch(/^too big \[reading its code threw Error: the code getter throws\] \[property size not sent: a bigint \(10n\)/)
      expect(errors[5]!.message).toMatch(/^the thrown value not sent: a bigint \(10n\)/)
      expect(await ex.submit(hostile.add, 1, 2)).toBe(3) // the worker goes on
      expect(served[0]!.errors()).toBe('')
    })

    it('a log line another BullMQ worker wrote, however hostile, fails only its own future', async () => {
      const queue = suite.newQueue()
      const lines = [
        '{"cfThrown":{"error":{"name":"__proto__","message":"proto","props":{"__proto__":1,"constructor":2},"cause":{"error":{"name":"toString"}}}}}',
        '{"cfThrown":{"error":{"name":"valueOf","message":"aggregate","errors":[{"error":{"name":"isPrototypeOf"}},{"value":5}]}}}',
        '{"cfThrown":"not a record"}',
        '{"cfThrown":{"error":5}}',
        '{"cfThrown":{"error":{"name":{"toString":1},"message":["m"],"stack":7,"props":"p"}}}',
      ]
      const other = new BullWorker(queue, async (job: Job<{ args: [number] }>) => {
        const line = lines[job.data.args[0]]
        await job.log(line ?? 'not JSON at all')
        throw new Error(`plain ${job.data.args[0]}`)
      }, { connection: { host: '127.0.0.1', port: redis.port } })
      try {
        const ex = executor(queue)
        const remote = taskRef<(i: number) => never>(hostileModule, 'anything')
        const errors = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => ex.submit(remote, i).then(() => undefined, (error: unknown) => error as Error & Record<string, unknown>)))
        for (const error of errors) expect(error).toBeInstanceOf(Error)
        expect(Object.getPrototypeOf(errors[0])).toBe(Error.prototype)
        expect([errors[0]!.name, (errors[0]!.cause as Error).name]).toEqual(['__proto__', 'toString'])
        expect(Object.getOwnPropertyDescriptor(errors[0], '__proto__')?.value).toBe(1)
        expect([errors[1]!.name, (errors[1]!.errors as Error[])[0]!.name, (errors[1]!.errors as unknown[])[1]]).toEqual(['valueOf', 'isPrototypeOf', 5])
        expect(errors[2]!.message).toMatch(/a form this library does not write/)
        expect(errors[4]!.name).toBe('Error')
        expect(errors[5]!.message).toBe('plain 5') // no line of ours: BullMQ's failedReason
      } finally {
        await other.close()
      }
    })

    it('refuse values JSON would change, on the way in and out', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue)
      expect(() => ex.submit(tasks.identity, new Map()).result()).toThrow(/arguments\[0\] is a Map/)
      expect(() => ex.submit(tasks.identity, { when: new Date(0) }).result()).toThrow(/arguments\[0\]\.when is a Date/)
      expect(() => ex.submit(tasks.identity, [1, undefined]).result()).toThrow(/arguments\[0\]\[1\] is undefined/)
      expect(() => ex.submit(tasks.identity, NaN).result()).toThrow(/NaN, which JSON turns into null/)
      expect(ex.submit(tasks.identity, { a: [1, 'two', null, { b: true }] }).result(10_000)).toEqual({ a: [1, 'two', null, { b: true }] })
      expect(ex.submit(tasks.append, scratch(), 'x').result(10_000)).toBeUndefined() // undefined comes back as itself
    })

    it('are retried with backoff when attempts allow, per executor or per task', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue)
      const once = scratch()
      expect(() => ex.submit(tasks.flaky, once, 1).result(10_000)).toThrow('attempt 1 fails')
      const path = scratch()
      const started = performance.now()
      expect(ex.submitWith({ attempts: 3, backoff: { type: 'fixed', delay: 150 } }, tasks.flaky, path, 2).result(10_000)).toBe(3)
      expect(performance.now() - started).toBeGreaterThanOrEqual(300)
      expect(executor(queue, { attempts: 2 }).submit(tasks.flaky, scratch(), 1).result(10_000)).toBe(2)
      expect(() => executor(queue, { attempts: 2 }).submit(tasks.flaky, scratch(), 5).result(10_000)).toThrow('attempt 2 fails') // the last attempt's error
    })

    it("a task's own TimeoutError (a fetch() that timed out) is its error: retried, and not the executor's TimeoutError", async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue, { attempts: 3 })
      expect(ex.submit(tasks.flakyFetchTimeout, scratch(), 2).result(10_000)).toBe(3)
      const path = scratch()
      const error = ex.submit(tasks.flakyFetchTimeout, path, 5).exception(10_000) as Error
      expect([error instanceof TimeoutError, error.name]).toEqual([false, 'TimeoutError'])
      expect(readFileSync(path, 'utf8')).toBe('xxx')
    })
  })

  describe('trusting nothing from Redis', () => {
    it('job data another client added that does not fit fails at once, without retries, naming the field', async () => {
      const { queue } = await serveQueue(1)
      const raw = inspect(queue)
      const bad: [unknown, RegExp][] = [
        [{ args: 'abc' }, /^data\.args must be an array of arguments, got 'abc'/],
        [{ args: [1], chunk: true }, /^data\.args\[0\] must be an array \(the arguments of one call of the chunk\), got 1/],
        [{ args: 5, chunk: true }, /^data\.args must be an array of argument arrays/],
        [{ args: [1], chunk: 'yes' }, /^data\.chunk must be true or absent/],
        [{ args: [1], timeoutMs: 'soon' }, /^data\.timeoutMs must be a number of milliseconds/],
        [{ args: [1], timeoutMs: 1e300 }, /^data\.timeoutMs must be a number of milliseconds/],
        [{ args: [1], interrupt: {} }, /^data\.interrupt must be a string/],
        ['text', /^the job's data must be an object/],
      ]
      const jobs = await raw.addBulk(bad.map(([data]) => ({ name: 'identity', data, opts: { attempts: 3 } })))
      const good = await raw.add('identity', { args: ['fine'] })
      await eventually(async () => (await raw.getJobCounts('completed')).completed === 1 && (await raw.getJobCounts('failed')).failed === bad.length, 20_000)
      for (const [i, job] of jobs.entries()) {
        const failed = (await raw.getJob(job.id!))!
        expect([failed.attemptsMade, failed.failedReason]).toEqual([1, expect.stringMatching(bad[i]![1])])
      }
      expect((await raw.getJob(good.id!))!.returnvalue).toEqual({ v: 'fine' })
    })

    it('malformed events in the stream fail only the job they name; the reader goes on', async () => {
      const queue = suite.newQueue() // no worker yet: the jobs wait
      const ex = executor(queue)
      const [a, b] = [ex.submit(tasks.add, 1, 1), ex.submit(tasks.add, 2, 2)]
      const raw = inspect(queue)
      await eventually(async () => (await raw.getWaitingCount()) === 2, 10_000)
      const [first, second] = (await raw.getJobs(['waiting'])).sort((x, y) => (x.timestamp - y.timestamp) || x.id!.localeCompare(y.id!))
      const [ida, idb] = first!.id!.endsWith('-0') ? [first!.id!, second!.id!] : [second!.id!, first!.id!]
      const events = `bull:${queue}:events`
      await withRedis(redis, async (admin) => {
        await admin.xadd(events, '*', 'event', 'completed', 'jobId', ida, 'returnvalue', 'not JSON')
        await admin.xadd(events, '*', 'event', 'completed', 'jobId', idb, 'returnvalue', '[1]')
        await admin.xadd(events, '*', 'event', 'completed', 'returnvalue', '{}')
        await admin.xadd(events, '*', 'jobId', ida, 'event', 'removed', 'jobId', 'twice')
      })
      expect((a.exception(10_000) as Error).message).toMatch(/completed with a return value this library does not write: not JSON/)
      expect((b.exception(10_000) as Error).message).toMatch(/completed with a return value this library does not write: \[1\]/)
      const worker = startWorker(redis, queue)
      workers.push(worker)
      await worker.ready
      expect(ex.submit(tasks.add, 3, 3).result(3000)).toBe(6) // the reader read on: well before reconcileMs would have found it
    })

    it('interrupt messages another client publishes crash no worker, and the oldest are forgotten past 10,000', async () => {
      const { queue, served } = await serveQueue(1)
      const channel = `bull:${queue}:cf:interrupt`
      const say = (jobId: string): string => JSON.stringify({ jobId, reason: 'from elsewhere' })
      await withRedis(redis, async (admin) => {
        for (const junk of ['not JSON', '5', 'null', '{"jobId":5}', '{"jobId":"__proto__","reason":{"toString":1}}', '{"jobId":"constructor"}', '[]']) await admin.publish(channel, junk)
        await admin.publish(channel, say('early'))
        await admin.publish(channel, say('recent'))
        const pipeline = admin.pipeline()
        for (let i = 0; i < 12_000; i++) pipeline.publish(channel, say(`fake-${i}`))
        await pipeline.exec()
        await admin.publish(channel, say('recent'))
      })
      await later(1500) // heard by the worker
      const raw = inspect(queue)
      await raw.add('identity', { args: ['ran'] }, { jobId: 'early' })
      await raw.add('identity', { args: ['ran'] }, { jobId: 'recent' })
      await eventually(async () => (await raw.getJobCounts('completed')).completed! + (await raw.getJobCounts('failed')).failed! === 2, 10_000)
      expect((await raw.getJob('early'))!.returnvalue).toEqual({ v: 'ran' }) // forgotten: 12,000 came after it
      expect((await raw.getJob('recent'))!.failedReason).toBe('interrupted before it started: from elsewhere')
      expect(served[0]!.errors()).toBe('')
    }, 30_000)
  })

  describe('timeouts, cancel and interrupt', () => {
    it('a timeout stops the running task on its worker, fails with TimeoutError and is not retried', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue, { attempts: 3 })
      const f = ex.submitWith({ timeoutMs: 200 }, tasks.spinUntilInterrupted)
      expect(f.exception(10_000)).toBeInstanceOf(TimeoutError)
      expect(ex.submit(tasks.add, 1, 1).result(10_000)).toBe(2) // the worker goes on
      const [failed] = await inspect(queue).getJobs(['failed'])
      expect(failed!.attemptsMade).toBe(1)
    })

    it('cancel() removes a waiting job and is true; on a running job it is false', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue)
      const running = ex.submit(tasks.sleep, 600, 'ran')
      await until(() => running.running())
      const waiting = ex.submit(tasks.identity, 'never')
      await new Promise((resolve) => setTimeout(resolve, 100)) // it reached Redis
      expect(waiting.cancel()).toBe(true)
      expect(waiting.cancelled()).toBe(true)
      expect(await inspect(queue).getWaitingCount()).toBe(0)
      expect(running.cancel()).toBe(false)
      expect(running.result(10_000)).toBe('ran')
    })

    it('an aborted signal interrupts the running task on its worker; the job is not retried', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue, { attempts: 3 })
      const controller = new AbortController()
      const f = ex.submitWith({ signal: controller.signal }, tasks.spinUntilInterrupted)
      await until(() => f.running())
      controller.abort(new Error('stop it'))
      expect(() => f.result(10_000)).toThrow('stop it')
      expect(ex.submit(tasks.add, 2, 2).result(10_000)).toBe(4)
      const [failed] = await inspect(queue).getJobs(['failed'])
      expect(failed!.attemptsMade).toBe(1)
    })

    it('shutdown({ cancelFutures }) removes the waiting jobs from Redis', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue)
      const futures = Array.from({ length: 10 }, () => ex.submit(tasks.sleep, 100, 'ran'))
      await until(() => futures[0]!.running())
      await ex.shutdown({ cancelFutures: true })
      expect(futures.every((f) => f.done())).toBe(true)
      expect(futures.filter((f) => f.cancelled()).length).toBeGreaterThanOrEqual(8)
      expect(await inspect(queue).getWaitingCount()).toBe(0)
    })
  })

  describe('lost workers', () => {
    const fast = ['--lock-duration', '1000', '--stalled-interval', '300']

    async function killRunner(path: string, served: WorkerProcess[], f: Future<unknown>): Promise<WorkerProcess> {
      await until(() => f.running())
      await until(() => existsSync(path))
      const victim = served.find((worker) => worker.pid === Number(lines(path)[0]))!
      await victim.stop('SIGKILL')
      return victim
    }

    it('a worker killed mid-job: another worker runs the job again once its lock expires (at-least-once)', async () => {
      const { queue, served } = await serveQueue(2, ...fast)
      const path = scratch()
      const f = executor(queue).submit(tasks.notePidThenSleep, path, 1500)
      const victim = await killRunner(path, served, f)
      const survivor = served.find((worker) => worker !== victim)!
      expect(f.result(30_000)).toBe(survivor.pid)
      expect(lines(path).map(Number)).toEqual([victim.pid, survivor.pid])
    })

    it('past the stall limit the future fails with WorkerLost (--max-stalled 0: at most once)', async () => {
      const { queue, served } = await serveQueue(2, ...fast, '--max-stalled', '0')
      const path = scratch()
      const f = executor(queue).submit(tasks.notePidThenSleep, path, 1500)
      await killRunner(path, served, f)
      expect(f.exception(30_000)).toBeInstanceOf(WorkerLost)
      expect(lines(path)).toHaveLength(1)
    })

    it('a job interrupted while its worker was dead is refused by the next worker', async () => {
      const { queue, served } = await serveQueue(2, ...fast)
      const path = scratch()
      const controller = new AbortController()
      const f = executor(queue).submitWith({ signal: controller.signal }, tasks.notePidThenSleep, path, 1500)
      await killRunner(path, served, f)
      controller.abort(new Error('not any more'))
      expect(() => f.result(30_000)).toThrow('not any more')
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(lines(path)).toHaveLength(1)
    })

    it('a worker whose supervisor goes away exits at once, mid-job, and its job is recovered', async () => {
      const { queue, served } = await serveQueue(2, ...fast, '--max-stalled', '0')
      const path = scratch()
      const f = executor(queue).submit(tasks.notePidThenSleep, path, 60_000)
      await until(() => existsSync(path))
      const runner = served.find((worker) => worker.pid === Number(lines(path)[0]))!
      runner.child.disconnect()
      await runner.stop('SIGCONT') // waits for the exit; SIGCONT itself does nothing
      expect(runner.child.exitCode).toBe(1)
      expect(f.exception(30_000)).toBeInstanceOf(WorkerLost)
    })

    it('SIGTERM lets a worker finish its running job before it exits', async () => {
      const { queue, served } = await serveQueue(1)
      const f = executor(queue).submit(tasks.sleep, 500, 'finished')
      await until(() => f.running())
      await served[0]!.stop('SIGTERM')
      expect(served[0]!.child.exitCode).toBe(0)
      expect(f.result(0)).toBe('finished')
    })
  })

  describe('Redis unreachable', () => {
    it('submit fails fast; a pending future waits and settles once Redis is back', async () => {
      const { queue } = await serveQueue(1)
      const ex = executor(queue)
      const f = ex.submit(tasks.sleep, 3000, 'survived')
      await until(() => f.running())
      redis.stop(true) // saved: start() brings the same data back, as a restarted server would
      try {
        const stopped = performance.now()
        await until(() => {
          try {
            ex.submit(tasks.add, 1, 1)
            return false
          } catch (error) {
            expect(error).toBeInstanceOf(QueueUnavailable)
            expect((error as Error).message).toMatch(/Redis is unreachable, so the task was not queued on q\d+/)
            return true
          }
        })
        expect(performance.now() - stopped).toBeLessThan(2000)
        expect(f.done()).toBe(false)
      } finally {
        redis.start()
      }
      expect(f.result(30_000)).toBe('survived')
      expect(ex.submit(tasks.add, 1, 2).result(10_000)).toBe(3)
    })

    it('an idle worker exits promptly on the first SIGTERM after Redis has been down a while', async () => {
      const own = startRedis()
      try {
        const worker = startWorker(own, 'alone')
        workers.push(worker)
        await worker.ready
        own.stop()
        await later(13_000) // ioredis' retries have backed off by now
        const stopped = performance.now()
        await Promise.race([worker.stop('SIGTERM'), later(10_000)])
        expect([worker.child.exitCode, worker.child.signalCode]).toEqual([0, null])
        expect(performance.now() - stopped).toBeLessThan(8000)
      } finally {
        own.stop()
      }
    }, 40_000)

    it('when it never answers, submit says so instead of hanging, and shutdown still ends', async () => {
      const ex = new QueueExecutor({ connection: 'redis://127.0.0.1:1', queue: 'nowhere' })
      const early = ex.submit(tasks.add, 1, 1) // before the first connection has failed
      await until(() => {
        try {
          ex.submit(tasks.add, 1, 1)
          return false
        } catch (error) {
          return error instanceof QueueUnavailable
        }
      })
      expect(early.exception(5000)).toBeInstanceOf(QueueUnavailable)
      await ex.shutdown()
    })
  })

  describe('missed events', () => {
    it('a flood with removeOnComplete: true settles every future from its job, none as cancelled', async () => {
      const { queue } = await serveQueue(2, '--concurrency', '4')
      const ex = executor(queue, { removeOnComplete: true, reconcileMs: 50 })
      const outcomes = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => ex.submit(tasks.add, i, 1)))
      const wrong = outcomes.filter((outcome, i) => outcome.status !== 'fulfilled' || outcome.value !== i + 1)
      expect(wrong.slice(0, 3)).toEqual([])
    }, 60_000)

    /** Runs a client process that submits `count` jobs and is paused (SIGSTOP) until they all finished and the events stream was emptied. */
    async function pausedClient(queue: string, count: number, options: Partial<QueueExecutorOptions>): Promise<{ ok: number; wrong: number; lost: number; cancelled: number; other: string[]; ms: number }> {
      const client = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/queue-client.ts', import.meta.url))], {
        env: { ...process.env, REDIS_URL: redis.url, QUEUE: queue, COUNT: String(count), OPTIONS: JSON.stringify(options) },
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      let out = ''
      client.stdout!.on('data', (chunk: Buffer) => (out += chunk))
      const exited = once(client, 'exit')
      try {
        await until(() => out.includes('submitted'), 30_000)
        client.kill('SIGSTOP')
        const paused = Date.now()
        const raw = inspect(queue)
        await eventually(async () => {
          const counts = await raw.getJobCounts('waiting', 'active', 'delayed')
          return counts.waiting! + counts.active! + counts.delayed! === 0
        }, 60_000)
        await withRedis(redis, (admin) => admin.xtrim(`bull:${queue}:events`, 'MAXLEN', 0)) // what maxLenEvents does to a client that reads too late
        await later(paused + (options.reconcileMs ?? 0) - Date.now()) // so that every job is overdue when the client comes back
        client.kill('SIGCONT')
        client.stdin!.write('go\n')
        await until(() => out.trim().split('\n').length > 1, 60_000)
        return JSON.parse(out.trim().split('\n')[1]!)
      } finally {
        client.kill('SIGCONT')
        await Promise.race([exited, later(10_000).then(() => client.kill('SIGKILL'))])
      }
    }

    it('a client paused while its events are trimmed away settles every future from its job record, in one catch-up', async () => {
      const { queue } = await serveQueue(2, '--concurrency', '4')
      const summary = await pausedClient(queue, 2000, { reconcileMs: 4000 })
      expect(summary).toMatchObject({ ok: 2000, wrong: 0, lost: 0, cancelled: 0, other: [] })
      expect(summary.ms).toBeLessThan(4000) // 256 jobs per reconcileMs/4 took 8 s
    }, 120_000)

    it('with removeOnComplete/removeOnFail true, a job whose record and event are both gone is JobLost, never cancelled', async () => {
      const { queue } = await serveQueue(2, '--concurrency', '4')
      const summary = await pausedClient(queue, 500, { reconcileMs: 1000, removeOnComplete: true, removeOnFail: true })
      expect(summary).toMatchObject({ wrong: 0, cancelled: 0, other: [] })
      expect(summary.ok + summary.lost).toBe(500)
      expect(summary.lost).toBeGreaterThan(0)
    }, 120_000)

    it('a Redis restart without its data: the futures of the lost jobs fail with JobLost', async () => {
      const own = startRedis()
      try {
        const ex = new QueueExecutor({ connection: own.url, queue: 'restarted', reconcileMs: 200 })
        executors.push(ex)
        const futures = Array.from({ length: 5 }, () => ex.submit(tasks.add, 1, 1)) // no worker: they wait
        const raw = new Queue('restarted', { connection: { host: '127.0.0.1', port: own.port } })
        await eventually(async () => (await raw.getWaitingCount()) === 5, 10_000)
        await raw.close()
        own.stop()
        own.start()
        for (const f of futures) expect(f.exception(15_000)).toBeInstanceOf(JobLost)
        expect(futures.some((f) => f.cancelled())).toBe(false)
      } finally {
        own.stop()
      }
    }, 30_000)

    it('a job that vanished without an event is noticed by reading its state (reconcileMs)', async () => {
      const queue = suite.newQueue() // no worker: the job waits
      const ex = executor(queue, { reconcileMs: 200 })
      const f = ex.submit(tasks.add, 1, 1)
      const raw = inspect(queue)
      let waiting: Job[] = []
      await eventually(async () => (waiting = await raw.getJobs(['waiting'])).length > 0, 10_000)
      const id = waiting[0]!.id!
      await withRedis(redis, (admin) => admin.multi().lrem(`bull:${queue}:wait`, 0, id).del(`bull:${queue}:${id}`).exec()) // behind BullMQ's back: no event
      const lost = f.exception(10_000) as JobLost
      expect([lost, lost.jobId, lost.started, f.cancelled()]).toEqual([expect.any(JobLost), id, false, false])
      expect(lost.message).toMatch(/is lost: Redis no longer holds it/)
    })
  })

  describe('orphans', () => {
    it('with leaseMs, the jobs of a client SIGKILLed longer ago than its lease fail instead of running; a live client\'s run', async () => {
      const queue = suite.newQueue()
      const client = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/queue-client.ts', import.meta.url))], {
        env: { ...process.env, REDIS_URL: redis.url, QUEUE: queue, COUNT: '5', NO_WORKER: '1', OPTIONS: JSON.stringify({ leaseMs: 600 }) },
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      let out = ''
      client.stdout!.on('data', (chunk: Buffer) => (out += chunk))
      const exited = once(client, 'exit')
      onTestFinished(() => void client.kill('SIGKILL')) // gone already, unless the test failed before it killed it
      await until(() => out.includes('submitted'), 30_000)
      const raw = inspect(queue)
      // A loaded machine may take longer than the client's second for the jobs to reach Redis.
      await eventually(async () => (await raw.getWaitingCount()) === 5, 10_000)
      client.kill('SIGKILL')
      await exited
      await later(1000) // past the lease
      const live = executor(queue, { leaseMs: 600 })
      const path = scratch()
      const mine = live.submit(tasks.append, path, 'ran')
      const worker = startWorker(redis, queue)
      workers.push(worker)
      await worker.ready
      expect(mine.result(10_000)).toBeUndefined()
      await eventually(async () => (await raw.getFailedCount()) === 5, 10_000)
      for (const job of await raw.getJobs(['failed'])) {
        expect([job.attemptsMade, job.failedReason]).toEqual([1, expect.stringMatching(/^not started: its client is gone \(its lease expired/)])
      }
      expect(lines(path)).toEqual(['ran'])
    }, 40_000)
  })

  describe('queue-wide limits', () => {
    it('globalConcurrency 1 runs one job at a time over two workers', async () => {
      const { queue } = await serveQueue(2)
      const ex = executor(queue, { globalConcurrency: 1 })
      const spans = [...ex.map(tasks.span, [150, 150, 150, 150])].sort((a, b) => a[0] - b[0])
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1])
    })

    it('--rate-limit 2/1000 starts at most two jobs a second', async () => {
      const { queue } = await serveQueue(1, '--rate-limit', '2/1000')
      const started = performance.now()
      expect([...executor(queue).map(tasks.identity, [1, 2, 3, 4, 5])]).toEqual([1, 2, 3, 4, 5])
      expect(performance.now() - started).toBeGreaterThanOrEqual(1500)
    })
  })

  describe('workers', () => {
    it('run jobs on threads by default, or on child processes', async () => {
      const { queue: threads, served: [onThreads] } = await serveQueue(1)
      const { queue: processes, served: [onProcesses] } = await serveQueue(1, '--executor', 'process')
      expect(executor(threads).submit(tasks.pid).result(10_000)).toBe(onThreads!.pid)
      expect(executor(processes).submit(tasks.pid).result(10_000)).not.toBe(onProcesses!.pid)
    })

    it('examples/scale-out.ts runs against a worker serving examples/scale-out-tasks.ts', async () => {
      const queue = suite.newQueue()
      const worker = startWorker(redis, queue, '--tasks', fileURLToPath(new URL('../examples/scale-out-tasks.ts', import.meta.url)))
      workers.push(worker)
      const example = fileURLToPath(new URL('../examples/scale-out.ts', import.meta.url))
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', example], { env: { ...process.env, REDIS_URL: redis.url, QUEUE: queue }, timeout: 30_000 })
      expect(stdout.trim()).toMatch(/^first done: \d+; all: 6765, 75025, 832040$/)
    })

    it('the worker command refuses a bad command line with one line and exit code 2', async () => {
      const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
      const run = (...args: string[]) => promisify(execFile)(process.execPath, [cli, 'worker', ...args]).catch((error: { code: number; stderr: string }) => error)
      const noQueue = await run('--tasks', tasksModule)
      expect(noQueue).toMatchObject({ code: 2, stderr: expect.stringMatching(/^concurrent-futures worker: --queue is required/) })
      const noModule = await run('--queue', 'q', '--tasks', 'missing.js')
      expect(noModule).toMatchObject({ code: 2, stderr: expect.stringMatching(/task module .*missing\.js does not exist/) })
      const badRate = await run('--queue', 'q', '--tasks', tasksModule, '--rate-limit', 'fast')
      expect(badRate).toMatchObject({ code: 2, stderr: expect.stringMatching(/--rate-limit takes max\/ms/) })
    })
  })

  describe('bad input', () => {
    it('is refused at once, saying what to pass instead', () => {
      const connection = redis.url
      expect(() => new QueueExecutor({ connection: { host: '127.0.0.1', retryStrategy: () => 1 }, queue: 'q' })).toThrow(/plain data/)
      expect(() => new QueueExecutor({ connection: new URL(redis.url) as never, queue: 'q' })).toThrow(/ioredis options .* or a redis:\/\/ URL/)
      expect(() => new QueueExecutor({ connection, queue: 'a:b' })).toThrow(/without ':'/)
      expect(() => new QueueExecutor({ connection, queue: 'q', attempts: 0 })).toThrow(RangeError)
      expect(() => new QueueExecutor({ connection, queue: 'q', reconcileMs: Infinity })).toThrow(RangeError)
      expect(() => new QueueExecutor({ connection, queue: 'q', leaseMs: 10 })).toThrow(RangeError)
      expect(() => new QueueExecutor({ connection, queue: 'q', backoff: 'slow' as never })).toThrow(/backoff must be/)
      const ex = executor('q')
      expect(() => ex.submit((x: number) => x, 1)).toThrow(/registered by name.*never sent through Redis/)
      expect(() => ex.submitWith({ transfer: [] } as never, tasks.add, 1, 2)).toThrow(/cannot transfer/)
    })
  })
})
