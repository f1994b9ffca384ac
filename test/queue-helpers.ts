// A real redis-server on a free loopback port and real worker processes,
// started by the tests and stopped by them.

import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { RedisServer } from '../bench/redis-server.js'

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
