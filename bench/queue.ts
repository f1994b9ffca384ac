// The QueueExecutor against plain BullMQ on one private redis-server, in one
// run, with 1, 2 and 4 worker processes (one job at a time each): no-op
// floods (tasks/s, and the client's CPU per job), single round trips (p50,
// p99), and map with a chunksize. Plain BullMQ is a Queue, a QueueEvents and
// an inline worker, its jobs added one `add` each or with one `addBulk`.

import { Queue, QueueEvents } from 'bullmq'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { QueueExecutor } from '../src/queue.js'
import { skipped } from './report.js'
import { startRedis, type RedisServer } from './redis-server.js'
import { tasks, tasksUrl } from './workloads.js'

const FLOOD = 2_000
const ROUNDS = 3
const LATENCY_SAMPLES = 200
const CHUNKSIZE = 100
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const rawWorker = fileURLToPath(new URL('./raw-bullmq-worker.js', import.meta.url))

/** What one setup achieved: floods per second and the client's CPU µs per job (best round), round trips in ms. */
interface Figures { flood: number; cpuUs: number; p50: number; p99: number }

/** A setup under test: `flood(n)` runs n no-op jobs to their end, `one()` one. */
interface Target { flood(n: number): PromiseLike<unknown>; one(): PromiseLike<unknown> }

export async function benchQueue(): Promise<void> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return skipped('queue: no-op tasks/s', 'redis-server is not installed')
  const redis = startRedis()
  const lines = ['| workers | setup | no-op tasks/s | client CPU µs/job | p50 ms | p99 ms | tasks/s vs add | vs addBulk | p50 vs add |', '|---|---|---|---|---|---|---|---|---|']
  try {
    for (const count of [1, 2, 4]) {
      console.error(`queue: ${count} worker process${count > 1 ? 'es' : ''}`)
      const rawQueue = `raw-${count}`
      const raws = await startWorkers([rawWorker, redis.url, rawQueue], count)
      const plain = await plainBullmq(redis, rawQueue)
      const add = await measure(plain.add)
      const bulk = await measure(plain.bulk)
      await plain.close()
      await stop(raws)
      const queue = `cf-${count}`
      const workers = await startWorkers([cli, 'worker', '--queue', queue, '--tasks', fileURLToPath(tasksUrl), '--redis', redis.url, '--concurrency', '1'], count)
      const ex = new QueueExecutor({ connection: redis.url, queue, removeOnComplete: true })
      const ours = await measure({
        flood: (n) => Promise.all(Array.from({ length: n }, (_, i) => ex.submit(tasks.noop, i))),
        one: () => ex.submit(tasks.noop, 0),
      })
      const mapped = await measure({
        flood: async (n) => [...ex.map(tasks.noop, Array.from({ length: n }, (_, i) => i), { chunksize: CHUNKSIZE })],
        one: () => ex.submit(tasks.noop, 0),
      })
      await ex.shutdown()
      await stop(workers)
      const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`
      const line = (setup: string, f: Figures, vs = true): string =>
        `| ${count} | ${setup} | ${Math.round(f.flood)} | ${Math.round(f.cpuUs)} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} | ${vs ? `${ratio(f.flood, add.flood)} | ${ratio(f.flood, bulk.flood)} | ${ratio(f.p50, add.p50)}` : '– | – | –'} |`
      lines.push(line('BullMQ add', add, false), line('BullMQ addBulk', bulk, false), line('QueueExecutor submit', ours), `| ${count} | QueueExecutor map, chunksize ${CHUNKSIZE} | ${Math.round(mapped.flood)} | ${Math.round(mapped.cpuUs)} | – | – | ${ratio(mapped.flood, add.flood)} | ${ratio(mapped.flood, bulk.flood)} | – |`)
    }
  } finally {
    redis.stop()
  }
  console.log(`\nqueue: ${FLOOD} no-op jobs per flood (best of ${ROUNDS}), ${LATENCY_SAMPLES} single round trips; goal: tasks/s ≥ 1.0× add, ≥ 0.8× addBulk, p50 ≤ 1.3× add, CPU/job ≤ plain`)
  console.log(lines.join('\n'))
}

/** Plain BullMQ: jobs added one `add` each or in one `addBulk`, each awaited through its completed event. */
async function plainBullmq(redis: RedisServer, name: string): Promise<{ add: Target; bulk: Target; close(): Promise<void> }> {
  const connection = { host: '127.0.0.1', port: redis.port }
  const queue = new Queue(name, { connection })
  // From the stream's start (the queue is new): from '$', the default, the first jobs' events can be missed (bullmq#2874).
  const events = new QueueEvents(name, { connection, lastEventId: '0-0' })
  await events.waitUntilReady()
  const waiting = new Map<string, () => void>()
  events.on('completed', ({ jobId }) => {
    waiting.get(jobId)?.()
    waiting.delete(jobId)
  })
  let next = 0
  const jobs = (n: number) => Array.from({ length: n }, () => ({ name: 'noop', data: next, opts: { jobId: `j${next++}`, removeOnComplete: true } }))
  const done = (list: { opts: { jobId: string } }[]) => Promise.all(list.map((job) => new Promise<void>((resolve) => waiting.set(job.opts.jobId, resolve))))
  const add = async (n: number): Promise<unknown> => {
    const list = jobs(n)
    const finished = done(list)
    await Promise.all(list.map((job) => queue.add(job.name, job.data, job.opts)))
    return finished
  }
  const bulk = async (n: number): Promise<unknown> => {
    const list = jobs(n)
    const finished = done(list)
    await queue.addBulk(list)
    return finished
  }
  return {
    add: { flood: add, one: () => add(1) },
    bulk: { flood: bulk, one: () => bulk(1) },
    close: async () => {
      await events.close()
      await queue.close()
    },
  }
}

async function measure(target: Target): Promise<Figures> {
  await target.flood(200) // warm
  let flood = 0
  let cpuUs = Infinity
  for (let i = 0; i < ROUNDS; i++) {
    const cpu = process.cpuUsage()
    const start = performance.now()
    await target.flood(FLOOD)
    const ms = performance.now() - start
    const used = process.cpuUsage(cpu)
    flood = Math.max(flood, (FLOOD * 1000) / ms)
    cpuUs = Math.min(cpuUs, (used.user + used.system) / FLOOD)
  }
  const latencies: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const start = performance.now()
    await target.one()
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)
  return { flood, cpuUs, p50: latencies[Math.floor(LATENCY_SAMPLES * 0.5)]!, p99: latencies[Math.floor(LATENCY_SAMPLES * 0.99)]! }
}

/** `count` worker processes (node `args`), once they all serve their queue. */
async function startWorkers(args: string[], count: number): Promise<ChildProcess[]> {
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
