// A real redis-server on a free loopback port and real worker processes,
// started by the tests and stopped by them.

import { execFileSync, fork, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const found = spawnSync('redis-server', ['--version']).status === 0

if (!found) {
  const message = 'redis-server is not installed: the QueueExecutor tests are SKIPPED (apt-get install -y redis-server)'
  // CI installs it; there a missing server must fail the run, not shrink it.
  if (process.env.CF_REQUIRE_REDIS) throw new Error(message)
  console.warn(`\n!!! ${message}\n`)
}

/** Whether the distributed tests can run here. */
export const haveRedis = found

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops the server; `save` writes its data first, so start() brings it back as it was (a restart). */
  stop(save?: boolean): void
  start(): void
}

const servers = new Set<RedisServer>()
process.on('exit', () => {
  for (const server of servers) server.stop()
})

/** Starts a server without persistence and with noeviction, as BullMQ needs; synchronous, so executors can be made at once. */
export function startRedis(): RedisServer {
  const port = freePort()
  const dir = mkdtempSync(join(tmpdir(), 'cf-redis-'))
  let running = false
  const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    start() {
      execFileSync('redis-server', [
        '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
        '--daemonize', 'yes', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
      ])
      for (let i = 0; ; i++) {
        try {
          if (cli('ping').trim() === 'PONG') break
        } catch {
          if (i > 200) throw new Error(`redis-server did not answer on port ${port}; see ${join(dir, 'redis.log')}`)
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
      }
      running = true
    },
    stop(save = false) {
      if (!running) return
      running = false
      try {
        cli('shutdown', save ? 'save' : 'nosave')
      } catch {
        // shutdown closes the connection before answering
      }
      if (!save) rmSync(dir, { recursive: true, force: true })
    },
  }
  server.start()
  servers.add(server)
  return server
}

function freePort(): number {
  const probe = "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })"
  return Number(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).trim())
}

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

/** A `concurrent-futures worker` process, forked so it also ends if the test process does. */
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
