import { afterAll, afterEach } from 'vitest'
import {
  fromModule, Future, ProcessPoolExecutor, ThreadPoolExecutor, type Executor, type ProcessPoolOptions, type ThreadPoolOptions,
} from 'concurrent-futures'
import { QueueExecutor, type QueueExecutorOptions } from 'concurrent-futures/queue'
import { haveRedis, startRedis, startWorker, type RedisServer, type WorkerProcess } from './queue-helpers.js'

export const tasks = fromModule<typeof import('./fixtures/tasks.js')>(new URL('./fixtures/tasks.ts', import.meta.url))

const open = new Set<Executor>()

/** A pool shut down (with its workers gone) after the test, whatever happens in it. */
export function pool(options: ThreadPoolOptions = {}): ThreadPoolExecutor {
  return track(new ThreadPoolExecutor({ maxWorkers: 2, ...options }))
}

export function processPool(options: ProcessPoolOptions = {}): ProcessPoolExecutor {
  return track(new ProcessPoolExecutor({ maxWorkers: 2, ...options }))
}

function track<E extends Executor>(executor: E): E {
  open.add(executor)
  return executor
}

let fleet: { redis: RedisServer; queue: string; workers: WorkerProcess[] } | undefined

/**
 * A QueueExecutor whose queue two worker processes serve, one job at a time
 * each (like a pool of two). The Redis server and the workers are shared by
 * the tests of a file and stopped after them.
 */
export function queueExecutor(options: Partial<QueueExecutorOptions> = {}): QueueExecutor {
  return track(freshQueueExecutor(options))
}

function freshQueueExecutor(options: Partial<QueueExecutorOptions> = {}): QueueExecutor {
  const { url, queue } = sharedQueue()
  return new QueueExecutor({ connection: url, queue, ...options })
}

/** The Redis URL and queue name the shared workers serve. */
export function sharedQueue(): { url: string; queue: string } {
  if (!fleet) {
    const redis = startRedis()
    const queue = `shared-${process.pid}`
    fleet = { redis, queue, workers: [startWorker(redis, queue), startWorker(redis, queue)] }
  }
  return { url: fleet.redis.url, queue: fleet.queue }
}

afterAll(async () => {
  if (!fleet) return
  await Promise.all(fleet.workers.map((worker) => worker.stop()))
  fleet.redis.stop()
  fleet = undefined
})

/** The local pools: what they promise beyond the shared Executor behaviour is tested once per pool. */
export const localBackends = [
  {
    name: 'ThreadPoolExecutor', make: pool, Class: ThreadPoolExecutor, local: true,
    fresh: (): Executor => new ThreadPoolExecutor({ maxWorkers: 2 }),
    recycleAfter: (n: number) => ({ maxTasksPerWorker: n }),
    /** Options under which a worker that dies is replaced (the default for threads). */
    replaceDead: {},
  },
  {
    name: 'ProcessPoolExecutor', make: processPool, Class: ProcessPoolExecutor, local: true,
    fresh: (): Executor => new ProcessPoolExecutor({ maxWorkers: 2 }),
    recycleAfter: (n: number) => ({ maxTasksPerChild: n }),
    replaceDead: { onChildExit: 'replace' },
  },
] as const

/**
 * The tests every executor must pass run once per backend. `local` marks the
 * parts only the local pools can do: the QueueExecutor runs only tasks its
 * workers registered, with JSON values (docs/DECISIONS.md).
 */
export const backends = [
  ...localBackends.map(({ name, make, local, fresh }) => ({ name, make: make as (options?: object) => Executor, local, fresh })),
  ...(haveRedis ? [{ name: 'QueueExecutor', make: (_options?: object): Executor => queueExecutor(), local: false, fresh: freshQueueExecutor }] : []),
]

afterEach(async () => {
  await Promise.all([...open].map((executor) => executor.shutdown({ cancelFutures: true })))
  open.clear()
})

/** Polls `condition` on the event loop until it holds (or fails the test after 10 s). */
export async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function finished<T>(value: T): Future<T> {
  const f = new Future<T>()
  f.setResult(value)
  return f
}

export function cancelled(): Future<unknown> {
  const f = new Future<unknown>()
  f.cancel()
  return f
}

/** `n` tasks drawn at random (seeded): results, throws, exits, timeouts, async waits and cancels. */
export function submitRandomMix(ex: Executor, n: number, seed: number): Array<Future<unknown>> {
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  return Array.from({ length: n }, (): Future<unknown> => {
    const r = random()
    if (r < 0.4) return ex.submit(tasks.identity, r)
    if (r < 0.55) return ex.submit(tasks.fail, 'x')
    if (r < 0.62) return ex.submit(tasks.exit, 1)
    if (r < 0.7) return ex.submitWith({ timeoutMs: 10 }, tasks.spinForever)
    if (r < 0.8) return ex.submit(tasks.sleep, 5, r)
    const f = ex.submit(tasks.sleepSync, 2)
    if (r < 0.9) f.cancel()
    return f
  })
}
