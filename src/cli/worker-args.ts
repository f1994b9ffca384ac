// The command line of `concurrent-futures worker`.

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ServeOptions } from '../queue/serve.js'
import { commandLine, parseCount, UsageError } from './args.js'

export const WORKER_USAGE = `usage: concurrent-futures worker --queue <name> --tasks <module> [options]

  --queue name           the BullMQ queue to serve (the QueueExecutor's queue)
  --tasks ./tasks.js     the module whose exported functions run, by name
                         (TypeScript modules under tsx)
  --redis redis://host:port
                         where Redis is (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --concurrency N        jobs at once, each on its own thread or process (default: the cores)
  --executor thread|process
                         where jobs run (default thread)
  --prefix p             BullMQ's key prefix (default bull)
  --lock-duration ms     a job whose worker is silent this long has stalled (default 30000)
  --stalled-interval ms  how often to look for stalled jobs (default 30000)
  --max-stalled N        stalls a job survives before it fails with WorkerLost
                         (default 1; 0 gives at-most-once execution)
  --rate-limit max/ms    at most max jobs per ms over all the queue's workers

SIGTERM or SIGINT: finish the running jobs, then exit.`

export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv): ServeOptions {
  const options: Partial<ServeOptions> = {}
  let redis = env.REDIS_URL || 'redis://127.0.0.1:6379'
  const { more, next, value } = commandLine(argv)
  while (more()) {
    const arg = next()
    switch (arg) {
      case '--queue': options.queue = value(arg); break
      case '--tasks': options.tasks = parseModule(value(arg)); break
      case '--redis': redis = value(arg); break
      case '--concurrency': options.concurrency = parseCount(value(arg), arg, 1); break
      case '--executor': options.executor = parseExecutor(value(arg)); break
      case '--prefix': options.prefix = value(arg); break
      case '--lock-duration': options.lockDurationMs = parseCount(value(arg), arg, 1); break
      case '--stalled-interval': options.stalledIntervalMs = parseCount(value(arg), arg, 1); break
      case '--max-stalled': options.maxStalledCount = parseCount(value(arg), arg, 0); break
      case '--rate-limit': options.rateLimit = parseRate(value(arg)); break
      default: throw new UsageError(`unknown option ${arg} (see --help)`)
    }
  }
  if (!options.queue) throw new UsageError('--queue is required: the name the QueueExecutor submits to')
  if (!options.tasks) throw new UsageError('--tasks is required: the module whose exported functions this worker runs')
  if (!/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis takes a redis:// URL, got ${redis}`)
  return { ...options, queue: options.queue, tasks: options.tasks, connection: redis }
}

function parseModule(text: string): string {
  const path = resolve(text)
  if (!existsSync(path)) throw new UsageError(`task module ${path} does not exist`)
  return pathToFileURL(path).href
}

function parseExecutor(text: string): 'thread' | 'process' {
  if (text !== 'thread' && text !== 'process') throw new UsageError(`--executor is thread or process, got ${text}`)
  return text
}

function parseRate(text: string): { max: number; durationMs: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text)
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new UsageError(`--rate-limit takes max/ms, such as 100/1000, got ${text}`)
  return { max: Number(match[1]), durationMs: Number(match[2]) }
}
