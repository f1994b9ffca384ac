// A real redis-server on a free loopback port and real worker processes,
// started by the tests and stopped by them.

import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { QueueExecutor, type QueueExecutorOptions } from 'concurrent-futures/queue'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { startRedis, type RedisServer } from '../bench/redis-server.js'

export { startRedis, type RedisServer } from '../bench/redis-server.js'

const found = spawnSync('redis-server', ['--version']).status === 0

if (!found) {
  // CI installs it; there a missing server must fail the run, not shrink it.
  if (process.env.CF_REQUIRE_REDIS) throw new Error('redis-server is not installed, and CF_REQUIRE_REDIS says the QueueExecutor tests must run')
  console.warn('\n!!! redis-server is not installed: the QueueExecutor tests are SKIPPED (apt-get install -y redis-server)\n')
}

/** Whether the distributed tests can run here. */
export const haveRedis = found

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
export const tasksModule = fileURLToPath(new URL('./fixtures/tasks.ts', import.meta.url))

export interface WorkerProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves once it serves the queue. */
  readonly ready: Promise<void>
  /** What it printed to stderr. */
  readonly errors: () => string
  /** SIGTERM (finish running jobs, then exit), or another signal; resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** A `concurrent-futures worker` process, forked so it also ends if the test process does; a later `--tasks` in `args` overrides the fixtures. */
export function startWorker(redis: RedisServer, queue: string, ...args: string[]): WorkerProcess {
  const child = fork(cli, ['worker', '--queue', queue, '--tasks', tasksModule, '--redis', redis.url, '--concurrency', '1', ...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = once(child, 'exit')
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk
      if (stdout.includes('serving queue')) resolve()
    })
    void exited.then(() => reject(new Error(`the worker exited before serving: ${stderr}`)))
  })
  ready.catch(() => {})
  return {
    child,
    pid: child.pid!,
    ready,
    errors: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

export const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())

/** Polls an async condition (a Redis read, say) until it holds. */
export async function eventually(condition: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`)
    await later(20)
  }
}

/** Runs `use` with a plain ioredis client, closed however `use` ends. */
export async function withRedis<T>(redis: RedisServer, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(redis.url)
  try {
    return await use(client)
  } finally {
    client.disconnect()
  }
}

/**
 * A describe block's Redis, and what its tests start (workers, executors, BullMQ inspectors), stopped after
 * each test: bounded, so that a test that failed with a job stuck on a dead worker still stops its workers.
 */
export function queueSuite(prefix: string) {
  let server: RedisServer | undefined
  let queueCount = 0
  const workers: WorkerProcess[] = []
  const executors: QueueExecutor[] = []
  const inspectors: Queue[] = []
  beforeAll(() => {
    server = startRedis()
  })
  afterEach(async () => {
    const shutdowns = Promise.all(executors.splice(0).map((ex) => ex.shutdown({ cancelFutures: true })))
    await Promise.race([shutdowns, later(10_000)])
    await Promise.all(inspectors.splice(0).map((queue) => queue.close()))
    await Promise.all(workers.splice(0).map((worker) => Promise.race([worker.stop(), later(5000).then(() => worker.stop('SIGKILL'))])))
  })
  afterAll(() => server?.stop())
  const suite = {
    get redis(): RedisServer {
      return server!
    },
    /** Workers and executors to stop after the test. */
    workers,
    executors,
    /** A fresh queue name. */
    newQueue: (): string => `${prefix}${queueCount++}`,
    /** A fresh queue served by `count` workers started with `args`; resolves once they serve it. */
    async serveQueue(count: number, ...args: string[]): Promise<{ queue: string; served: WorkerProcess[] }> {
      const queue = suite.newQueue()
      const served = Array.from({ length: count }, () => startWorker(server!, queue, ...args))
      workers.push(...served)
      await Promise.all(served.map((worker) => worker.ready))
      return { queue, served }
    },
    executor(queue: string, options: Partial<QueueExecutorOptions> = {}): QueueExecutor {
      const ex = new QueueExecutor({ connection: server!.url, queue, ...options })
      executors.push(ex)
      return ex
    },
    /** BullMQ's own view of the queue, to check what reached Redis. */
    inspect(queue: string): Queue {
      const raw = new Queue(queue, { connection: { host: '127.0.0.1', port: server!.port } })
      inspectors.push(raw)
      return raw
    },
  }
  return suite
}
