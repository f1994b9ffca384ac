// The QueueExecutor against plain BullMQ on one private redis-server, in one
// run, with 1, 2 and 4 worker processes (one job at a time each): no-op
// floods (tasks/s, and the client's CPU per job), single round trips (p50,
// p99), and map with a chunksize. Plain BullMQ is a Queue, a QueueEvents and
// an inline worker, its jobs added one `add` each or with one `addBulk`.
// Both sets of workers run side by side and the setups take turns, a flood
// (or a round trip) each, so load from elsewhere falls on all of them alike:
// on a shared machine, setups measured seconds apart differ by more than the
// setups themselves.

import { Queue, QueueEvents } from 'bullmq'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { QueueExecutor } from '../src/queue.js'
import { skipped } from './report.js'
import { startRedis, type RedisServer } from './redis-server.js'
import { tasks, tasksUrl } from './workloads.js'

const FLOOD = 2_000
const ROUNDS = 5
const LATENCY_SAMPLES = 200
const CHUNKSIZE = 100
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const rawWorker = fileURLToPath(new URL('./raw-bullmq-worker.js', import.meta.url))

/** A setup under test: `flood(n)` runs n no-op jobs to their end, `one()` one. */
interface Target { flood(n: number): PromiseLike<unknown>; one(): PromiseLike<unknown> }

/** What a setup measured: per round, tasks/s and the client's CPU µs per job; round trips in ms, sorted. */
interface Measured { rates: number[]; cpuUs: number[]; latencies: number[] }

export async function benchQueue(): Promise<void> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return skipped('queue: no-op tasks/s', 'redis-server is not installed')
  const redis = startRedis()
  const lines = ['| workers | setup | no-op tasks/s | client CPU µs/job | p50 ms | p99 ms | tasks/s vs add | vs addBulk | p50 vs add |', '|---|---|---|---|---|---|---|---|---|']
  try {
    for (const count of [1, 2, 4]) {
      console.error(`queue: ${count} worker process${count > 1 ? 'es' : ''} of each kind`)
      const rawQueue = `raw-${count}`
      const queue = `cf-${count}`
      const workers = await Promise.all([
        startWorkers([rawWorker, redis.url, rawQueue], count),
        startWorkers([cli, 'worker', '--queue', queue, '--tasks', fileURLToPath(tasksUrl), '--redis', redis.url, '--concurrency', '1'], count),
      ])
      const plain = await plainBullmq(redis, rawQueue)
      const ex = new QueueExecutor({ connection: redis.url, queue, removeOnComplete: true })
      const [add, bulk, ours, mapped] = await measure([
        plain.add,
        plain.bulk,
        { flood: (n) => Promise.all(Array.from({ length: n }, (_, i) => ex.submit(tasks.noop, i))), one: () => ex.submit(tasks.noop, 0) },
        { flood: async (n) => [...ex.map(tasks.noop, Array.from({ length: n }, (_, i) => i), { chunksize: CHUNKSIZE })] },
      ])
      await ex.shutdown()
      await plain.close()
      await Promise.all(workers.map(stop))
      const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
      const at = (list: number[], q: number): number => list[Math.floor(list.length * q)]!
      // Each round's ratio, then their median: a round compares setups measured moments apart.
      const ratio = (a: Measured, b: Measured): string => `${median(a.rates.map((rate, i) => rate / b.rates[i]!)).toFixed(2)}×`
      const line = (setup: string, m: Measured, vs = true): string => {
        const latency = m.latencies.length > 0 ? [at(m.latencies, 0.5).toFixed(2), at(m.latencies, 0.99).toFixed(2)] : ['–', '–']
        const p50 = m.latencies.length > 0 ? `${(at(m.latencies, 0.5) / at(add.latencies, 0.5)).toFixed(2)}×` : '–'
        return `| ${count} | ${setup} | ${Math.round(median(m.rates))} | ${Math.round(median(m.cpuUs))} | ${latency.join(' | ')} | ${vs ? `${ratio(m, add)} | ${ratio(m, bulk)} | ${p50}` : '– | – | –'} |`
      }
      lines.push(line('BullMQ add', add, false), line('BullMQ addBulk', bulk, false), line('QueueExecutor submit', ours), line(`QueueExecutor map, chunksize ${CHUNKSIZE}`, mapped))
    }
  } finally {
    redis.stop()
  }
  console.log(`\nqueue: ${FLOOD} no-op jobs per flood, medians of ${ROUNDS} rounds in which the setups take turns; ${LATENCY_SAMPLES} single round trips each, taking turns; ` +
    'goal: tasks/s ≥ 1.0× add, ≥ 0.8× addBulk, p50 ≤ 1.3× add, CPU/job ≤ plain')
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

/** The setups' floods, a round of each in turn, then their round trips, one of each in turn (a setup without `one` has none). */
async function measure<T extends ReadonlyArray<Pick<Target, 'flood'> & Partial<Target>>>(targets: readonly [...T]): Promise<{ [K in keyof T]: Measured }> {
  for (const target of targets) await target.flood(200) // warm
  const measured = targets.map((): Measured => ({ rates: [], cpuUs: [], latencies: [] }))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, target] of targets.entries()) {
      const cpu = process.cpuUsage()
      const start = performance.now()
      await target.flood(FLOOD)
      const ms = performance.now() - start
      const used = process.cpuUsage(cpu)
      measured[i]!.rates.push((FLOOD * 1000) / ms)
      measured[i]!.cpuUs.push((used.user + used.system) / FLOOD)
    }
  }
  for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
    for (const [i, target] of targets.entries()) {
      if (!target.one) continue
      const start = performance.now()
      await target.one()
      measured[i]!.latencies.push(performance.now() - start)
    }
  }
  for (const m of measured) m.latencies.sort((a, b) => a - b)
  return measured as { [K in keyof T]: Measured }
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
