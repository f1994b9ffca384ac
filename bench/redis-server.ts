// A private redis-server on a free loopback port, for the tests and the
// benchmark: no persistence, and noeviction, as BullMQ needs.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops the server; `save` writes its data first, so start() brings it back as it was (a restart), else it comes back empty. */
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
  let watchdog: ChildProcess | undefined
  const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    start() {
      mkdirSync(dir, { recursive: true }) // a stop without save removed it: the restart starts empty
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
      // The server is a daemon: should this process be killed before it can stop it, this stops it.
      const stopIfOrphaned = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; redis-cli -p ${port} shutdown nosave; rm -rf '${dir}'`
      watchdog = spawn('sh', ['-c', stopIfOrphaned], { stdio: 'ignore', detached: true })
      watchdog.unref()
    },
    stop(save = false) {
      if (!running) return
      running = false
      watchdog?.kill()
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

