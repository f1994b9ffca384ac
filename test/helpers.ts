import { afterEach } from 'vitest'
import {
  fromModule, Future, ProcessPoolExecutor, ThreadPoolExecutor, type Executor, type ProcessPoolOptions, type ThreadPoolOptions,
} from 'concurrent-futures'

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

/** The tests every executor must pass run once per backend. */
export const backends = [
  {
    name: 'ThreadPoolExecutor', make: pool, Class: ThreadPoolExecutor,
    recycleAfter: (n: number) => ({ maxTasksPerWorker: n }),
    /** Options under which a worker that dies is replaced (the default for threads). */
    replaceDead: {},
  },
  {
    name: 'ProcessPoolExecutor', make: processPool, Class: ProcessPoolExecutor,
    recycleAfter: (n: number) => ({ maxTasksPerChild: n }),
    replaceDead: { onChildExit: 'replace' },
  },
] as const

afterEach(async () => {
  await Promise.all([...open].map((executor) => executor.shutdown({ cancelFutures: true })))
  open.clear()
})

/** Polls `condition` on the event loop until it holds (or fails the test after 10 s). */
export async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 10 s')
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
