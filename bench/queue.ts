// The QueueExecutor through a private redis-server, with 1, 2 and 4 worker
// processes (one job at a time each), beside a local ProcessPoolExecutor of
// 2 processes, and plain BullMQ (Queue, QueueEvents and an inline worker)
// on the same server, all measured in the same run.

import { Queue, QueueEvents } from 'bullmq'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { ProcessPoolExecutor, wait, type Executor } from '../src/index.js'
import { QueueExecutor } from '../src/queue.js'
import { timed } from './measure.js'
import { perSecond, row, skipped } from './report.js'
import { startRedis, type RedisServer } from './redis-server.js'
import { CPU_TASKS, FIB, ROUNDS, tasks, tasksUrl, WORKERS } from './workloads.js'

const FLOOD = 2_000
const LATENCY_SAMPLES = 300
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const rawWorker = fileURLToPath(new URL('./raw-bullmq-worker.js', import.meta.url))

export async function benchQueue(): Promise<void> {
  const name = 'queue: no-op tasks/s'
  if (spawnSync('redis-server', ['--version']).status !== 0) return skipped(name, 'redis-server is not installed')
  const redis = startRedis()
  const local = new ProcessPoolExecutor({ maxWorkers: WORKERS, submitStacks: false })
  try {
    const reference = await measure(local)
    const [raw] = await startWorkers([rawWorker, redis.url, 'bench-raw'])
    const bullmq = await measureRaw(redis, 'bench-raw')
    await stop([raw!])
    for (const count of [1, 2, 4]) {
      console.error(`queue: ${count} worker process${count > 1 ? 'es' : ''}`)
      const queue = `bench-${count}`
      const args = [cli, 'worker', '--queue', queue, '--tasks', fileURLToPath(tasksUrl), '--redis', redis.url, '--concurrency', '1']
      const workers = await startWorkers(args, count)
      const ex = new QueueExecutor({ connection: redis.url, queue, removeOnComplete: true })
      try {
        const ours = await measure(ex)
        const label = `${count} worker${count > 1 ? 's' : ''}`
        row(`queue, ${label}: no-op tasks/s`, ours.flood, reference.flood, `local ProcessPoolExecutor(${WORKERS})`, '/s', '–')
        row(`queue, ${label}: no-op latency p50`, ours.p50, reference.p50, `local ProcessPoolExecutor(${WORKERS})`, 'ms', '–')
        row(`queue, ${label}: no-op latency p99`, ours.p99, reference.p99, `local ProcessPoolExecutor(${WORKERS})`, 'ms', '–')
        if (count === 1) {
          row('queue, 1 worker: no-op tasks/s vs plain BullMQ', ours.flood, bullmq.flood, 'BullMQ, 1 inline worker', '/s', '≈ 1×')
          row('queue, 1 worker: no-op latency p50 vs plain BullMQ', ours.p50, bullmq.p50, 'BullMQ, 1 inline worker', 'ms', '≈ 1×')
        }
        row(`queue, ${label}: fib(${FIB}) tasks/s`, ours.cpu, reference.cpu, `local ProcessPoolExecutor(${WORKERS})`, '/s', '–')
      } finally {
        await ex.shutdown()
        await stop(workers)
      }
    }
  } finally {
    await local.shutdown()
    redis.stop()
  }
}

interface Figures { flood: number; p50: number; p99: number; cpu: number }

/** The same no-op floods and round trips with BullMQ alone: add, then wait for the completed event. */
async function measureRaw(redis: RedisServer, name: string): Promise<Pick<Figures, 'flood' | 'p50'>> {
  const connection = { host: '127.0.0.1', port: redis.port }
  const queue = new Queue(name, { connection })
  const events = new QueueEvents(name, { connection })
  await events.waitUntilReady()
  const waiting = new Map<string, () => void>()
  events.on('completed', ({ jobId }) => waiting.get(jobId)?.())
  let next = 0
  const run = (count: number): Promise<unknown> => {
    const jobs = Array.from({ length: count }, () => ({ name: 'noop', data: next, opts: { jobId: `j${next++}`, removeOnComplete: true } }))
    const done = Promise.all(jobs.map((job) => new Promise<void>((resolve) => waiting.set(job.opts.jobId, resolve))))
    void queue.addBulk(jobs)
    return done
  }
  await run(200)
  const flood = perSecond(await timed(ROUNDS, () => run(FLOOD)), FLOOD)
  const latencies: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const start = performance.now()
    await run(1)
    latencies.push(performance.now() - start)
  }
  await events.close()
  await queue.close()
  return { flood, p50: latencies.sort((a, b) => a - b)[Math.floor(LATENCY_SAMPLES * 0.5)]! }
}

async function measure(ex: Executor): Promise<Figures> {
  wait(Array.from({ length: 200 }, (_, i) => ex.submit(tasks.noop, i))) // warm
  const flood = perSecond(await timed(ROUNDS, async () => {
    await Promise.all(Array.from({ length: FLOOD }, (_, i) => ex.submit(tasks.noop, i)))
  }), FLOOD)
  const latencies: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const start = performance.now()
    await ex.submit(tasks.noop, i)
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)
  const cpu = perSecond(await timed(3, async () => {
    await Promise.all(Array.from({ length: CPU_TASKS }, () => ex.submit(tasks.fib, FIB)))
  }), CPU_TASKS)
  return { flood, p50: latencies[Math.floor(LATENCY_SAMPLES * 0.5)]!, p99: latencies[Math.floor(LATENCY_SAMPLES * 0.99)]!, cpu }
}

/** `count` worker processes (node `args`), once they all serve their queue. */
async function startWorkers(args: string[], count = 1): Promise<ChildProcess[]> {
  const workers = Array.from({ length: count }, () => spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }))
  await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
    worker.stdout!.on('data', (chunk: Buffer) => chunk.includes('serving queue') && resolve())
    worker.once('exit', (code) => reject(new Error(`a worker exited with code ${code} before serving`)))
  })))
  return workers
}

async function stop(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map(async (worker) => {
    worker.kill('SIGTERM')
    await once(worker, 'exit')
  }))
}
