import { spawn } from 'node:child_process'
import { mkdtempSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BrokenExecutor, BrokenProcessPool, CancelledError, fromModule, ProcessPoolExecutor, TimeoutError, wait, WorkerLost } from 'concurrent-futures'
import { processPool, submitRandomMix, tasks, until } from './helpers.js'
import { alive } from './soak/system.js'

const FUTURE_MESSAGE = 'A process in the process pool was terminated abruptly while the future was running or pending.'
const POOL_MESSAGE = 'A child process terminated abruptly, the process pool is not usable anymore'

function expectBroken(error: unknown): WorkerLost {
  expect(error).toBeInstanceOf(BrokenProcessPool)
  expect(error).toBeInstanceOf(BrokenExecutor)
  expect((error as Error).message).toBe(FUTURE_MESSAGE)
  const cause = (error as Error).cause
  expect(cause).toBeInstanceOf(WorkerLost)
  return cause as WorkerLost
}

describe('a child that dies abruptly breaks the pool (B69-B72, B86)', () => {
  it('killed: every pending and running future fails, each with its own error, and submit throws', () => {
    const ex = processPool()
    ex.submit(tasks.identity, 'warm up').result()
    const running = ex.submit(tasks.sleepSync, 5000)
    const killed = ex.submit(tasks.killSelf, 'SIGKILL')
    const pending = Array.from({ length: 5 }, (_, i) => ex.submit(tasks.identity, i))
    const errors = [running, killed, ...pending].map((f) => f.exception(10_000))
    for (const error of errors) expect(expectBroken(error).signal).toBe('SIGKILL')
    expect(new Set(errors).size).toBe(errors.length)
    expect(String((errors[0] as Error).cause)).toMatch(/was killed by SIGKILL/)
    expect(() => ex.submit(tasks.add, 1, 1)).toThrow(BrokenProcessPool)
    expect(() => ex.submit(tasks.add, 1, 1)).toThrow(POOL_MESSAGE)
  })

  it('process.exit(): the cause carries the exit code', () => {
    const ex = processPool({ maxWorkers: 1 })
    const cause = expectBroken(ex.submit(tasks.exit, 3).exception(10_000))
    expect(cause.exitCode).toBe(3)
    expect(cause.message).toMatch(/exited with code 3/)
  })

  it('a throw outside any task: the cause carries what was thrown', () => {
    const ex = processPool({ maxWorkers: 1 })
    const cause = expectBroken(ex.submit(tasks.throwWhileWaiting).exception(10_000))
    expect((cause.cause as Error).message).toBe('thrown outside any task')
  })

  it('out of memory', async () => {
    // In a process of its own, whose stderr takes the child's V8 fatal-error trace.
    const script = fileURLToPath(new URL('./fixtures/exit-script.ts', import.meta.url))
    const host = spawn(process.execPath, ['--import', 'tsx', script, 'child-oom', 'ProcessPoolExecutor'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    host.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)))
    host.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)))
    expect(await new Promise((resolve) => host.on('close', resolve))).toBe(0)
    expect(JSON.parse(stdout)).toEqual({ name: 'BrokenProcessPool', message: FUTURE_MESSAGE, cause: 'WorkerLost' })
    expect(stderr).toMatch(/heap out of memory/)
  })

  it('while a large argument is on its way (B90)', async () => {
    const ex = processPool({ maxWorkers: 1 })
    const big = new Uint8Array(64 * 1024 * 1024)
    const killed = ex.submit(tasks.killSelf, 'SIGKILL')
    const carrying = ex.submit(tasks.byteLength, big.buffer)
    expectBroken(await killed.then(() => undefined, (e: unknown) => e))
    expectBroken(await carrying.then(() => undefined, (e: unknown) => e))
  })

  it('after shutdown() was called, which still resolves (B89)', async () => {
    const ex = processPool({ maxWorkers: 1 })
    const f = ex.submit(tasks.killSelf, 'SIGKILL')
    await ex.shutdown()
    expectBroken(f.exception(0))
  })

  it('when the initializer fails (B91)', () => {
    const ex = processPool({ initializer: tasks.failingInit })
    const futures = Array.from({ length: 4 }, () => ex.submit(tasks.add, 1, 1))
    for (const f of futures) {
      const error = f.exception(10_000) as Error
      expect(error).toBeInstanceOf(BrokenProcessPool)
      expect((error.cause as Error).message).toBe('error in initializer')
    }
    expect(() => ex.submit(tasks.add, 1, 1)).toThrow(BrokenProcessPool)
  })
})

describe("with onChildExit: 'replace'", () => {
  it('fails only the futures the dead child held, and goes on in a new child', () => {
    const ex = processPool({ maxWorkers: 1, onChildExit: 'replace' })
    const first = ex.submit(tasks.pid).result()
    const killed = ex.submit(tasks.killSelf, 'SIGKILL')
    const later = Array.from({ length: 5 }, (_, i) => ex.submit(tasks.identity, i))
    const error = killed.exception(10_000) as WorkerLost
    expect(error).toBeInstanceOf(WorkerLost)
    expect(error.signal).toBe('SIGKILL')
    expect(error.message).toMatch(/child process running this task was killed by SIGKILL; the pool replaced it/)
    expect(later.map((f) => f.result(10_000))).toEqual([0, 1, 2, 3, 4])
    expect(ex.submit(tasks.pid).result()).not.toBe(first)
  })

  it('settles every future across random crashes, failures, cancels, timeouts and recycling', async () => {
    for (let round = 0; round < 3; round++) {
      const ex = processPool({ onChildExit: 'replace', interruptGraceMs: 20, maxTasksPerChild: 9 + round })
      const futures = submitRandomMix(ex, 50, 777 + round)
      expect(wait(futures, { timeout: 30_000 }).notDone.size).toBe(0)
      await ex.shutdown()
    }
  }, 90_000) // three rounds of child crashes and restarts: 7-19 s alone, more under a loaded machine
})

describe('children', () => {
  it('never exceed maxWorkers (B77) and one is reused for sequential work (B78)', () => {
    const ex = processPool({ maxWorkers: 2 })
    const pids = new Set(wait(Array.from({ length: 30 }, () => ex.submit(tasks.pidAfter, 5))).done)
    expect(new Set([...pids].map((f) => f.result())).size).toBeLessThanOrEqual(2)
    const sequential = new Set(Array.from({ length: 5 }, () => ex.submit(tasks.pid).result()))
    expect(sequential.size).toBe(1)
  })

  it('recycling during shutdown still yields every result (B82)', async () => {
    const ex = processPool({ maxWorkers: 3, maxTasksPerChild: 1 })
    const futures = Array.from({ length: 6 }, (_, i) => ex.submit(tasks.identity, i))
    await ex.shutdown()
    expect(futures.map((f) => f.result(0))).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('run the initializer with initargs first', () => {
    const ex = processPool({ initializer: tasks.init, initargs: ['a', 1] })
    for (const f of wait(Array.from({ length: 6 }, () => ex.submit(tasks.initState))).done) expect(f.result()).toEqual(['a', 1])
  })

  it('are named after the pool', () => {
    expect(processPool().submit(tasks.thread).result().name).toMatch(/^ProcessPoolExecutor-\d+_[01]$/)
  })

  it('reject bad options at once (B81)', () => {
    expect(() => new ProcessPoolExecutor({ maxTasksPerChild: 0 })).toThrow(RangeError)
    expect(() => new ProcessPoolExecutor({ maxTasksPerChild: 1.5 })).toThrow(RangeError)
    expect(() => new ProcessPoolExecutor({ serialization: 'xml' as never })).toThrow(/serialization must be 'advanced' or 'json'/)
    expect(() => new ProcessPoolExecutor({ onChildExit: 'ignore' as never })).toThrow(TypeError)
  })
})

describe('values', () => {
  it('cross as structured clones by default', () => {
    const ex = processPool({ maxWorkers: 1 })
    const value = { map: new Map([[1, 'a']]), set: new Set([2]), date: new Date(5), big: 10n ** 20n, bytes: new Uint8Array([1, 2]) }
    expect(ex.submit(tasks.identity, value).result()).toEqual(value)
  })

  it('as JSON when asked', () => {
    const ex = processPool({ maxWorkers: 1, serialization: 'json' })
    expect(ex.submit(tasks.identity, { a: [1, 'x', null] }).result()).toEqual({ a: [1, 'x', null] })
    expect(ex.submit(tasks.identity, new Date(0)).result()).toBe('1970-01-01T00:00:00.000Z')
  })

  it('an argument only a thread could take (a SharedArrayBuffer) fails only its future (B84)', () => {
    const ex = processPool({ maxWorkers: 1 })
    const bad = ex.submit(tasks.bump, new SharedArrayBuffer(4))
    const good = ex.submit(tasks.add, 1, 2)
    expect(() => bad.result(10_000)).toThrow(/cannot be sent to a child process/)
    expect(good.result()).toBe(3)
  })
})

describe('cancel and interrupt', () => {
  it('a task stays cancellable until a child is free to start it (B83, differs)', async () => {
    const ex = processPool({ maxWorkers: 1 })
    const log = join(mkdtempSync(join(tmpdir(), 'cf-')), 'log')
    const blocker = ex.submit(tasks.sleepSync, 300)
    const queued = ex.submit(tasks.append, log, 'ran')
    await until(() => blocker.running())
    expect(queued.running()).toBe(false)
    expect(queued.cancel()).toBe(true)
    expect(() => queued.result()).toThrow(CancelledError)
    expect(blocker.result()).toBe(300)
    expect(ex.submit(tasks.add, 1, 1).result()).toBe(2)
    expect(existsSync(log)).toBe(false)
  })

  it('an async task sees its signal abort at timeoutMs', async () => {
    const ex = processPool({ maxWorkers: 1 })
    expect(await ex.submitWith({ timeoutMs: 50 }, tasks.waitForAbort)).toMatch(/^aborted: the task ran longer than its timeoutMs/)
  })

  it('a task that holds its child past the grace period is killed; the pool replaces the child and is not broken', () => {
    const ex = processPool({ maxWorkers: 1, interruptGraceMs: 50 })
    const first = ex.submit(tasks.pid).result()
    const stuck = ex.submitWith({ timeoutMs: 50 }, tasks.spinForever)
    const queued = ex.submit(tasks.pid)
    expect(stuck.exception(10_000)).toBeInstanceOf(TimeoutError)
    expect(queued.result(10_000)).not.toBe(first)
  })

  it("an interrupt that reaches the child while the task's module still loads is seen when the task starts", async () => {
    const ex = processPool({ maxWorkers: 1, interruptGraceMs: 5_000 })
    const slow = fromModule<typeof import('./fixtures/slow-load.js')>(new URL('./fixtures/slow-load.ts', import.meta.url))
    const controller = new AbortController()
    const f = ex.submitWith({ signal: controller.signal }, slow.waitForAbort)
    await until(() => f.running()) // the relay claimed it as it sent it; the child is still loading the module
    controller.abort(new Error('stop early'))
    expect(await f).toBe('aborted: stop early')
  })

  it('an abort signal interrupts a running task the same way', async () => {
    const ex = processPool({ maxWorkers: 1, interruptGraceMs: 50 })
    const controller = new AbortController()
    const stuck = ex.submitWith({ signal: controller.signal }, tasks.spinForever)
    await until(() => stuck.running())
    controller.abort(new Error('stop'))
    await expect(stuck).rejects.toThrow('stop')
    expect(await ex.submit(tasks.add, 1, 1)).toBe(2)
  })
})

describe("a child's IPC channel is the pool's", () => {
  // Shaped like a packed batch of results for the tasks after the sender (ids from 1 in a new pool), as the relay read them.
  const forged = [...[2, 3, 4, 5].flatMap((id) => [id, 0, 'forged']), 0]
  const sent: Array<[string, unknown]> = [
    ['a string', 'ready'],
    ['a number', 42],
    ['null', null],
    ['an object', { type: 'process:msg', data: 1 }],
    ['an event of the pool', { event: 'exit', code: 0 }],
    ['an array', [1, 2, 3]],
    ['an array shaped like a batch of results', forged],
  ]
  const preload = fileURLToPath(new URL('./fixtures/raw-send-preload.cjs', import.meta.url))
  // The children's warning about a task's send is checked below, not printed into the test report.
  const quiet = [...process.execArgv, '--no-warnings']
  const pools = {
    task: () => processPool({ maxWorkers: 1, execArgv: quiet }),
    // A preload kept the channel's own send: its messages reach the relay, which must not trust them.
    preload: () => processPool({ maxWorkers: 1, execArgv: [...quiet, '--require', preload] }),
  }

  /** Submits a task that sends `value`, then others; each must have its own result, having run once. */
  async function sendsAmongOthers(ex: ProcessPoolExecutor, value: unknown, via: 'task' | 'preload', result = 'mine'): Promise<void> {
    const sender = ex.submit(tasks.sendOnChannel, value, result, via)
    const others = [1, 2, 3].map((i) => ex.submit(tasks.identity, i))
    expect(await sender).toBe(result)
    expect(await Promise.all(others)).toEqual([1, 2, 3])
  }

  for (const via of ['task', 'preload'] as const) {
    const who = via === 'task' ? "a task's process.send" : "a preload's send"
    it.each(sent)(`${who} of %s: the task, the tasks after it and the pool are unaffected`, async (_, value) => {
      const ex = pools[via]()
      await sendsAmongOthers(ex, value, via)
      expect(await ex.submit(tasks.add, 1, 2)).toBe(3)
    })

    it(`${who} of any value leaves every result right`, async () => {
      const ex = pools[via]()
      let run = 0
      // Node's own send refuses undefined, before the channel.
      const value = fc.anything().filter((v) => v !== undefined)
      await fc.assert(fc.asyncProperty(value, (v) => sendsAmongOthers(ex, v, via, `mine ${run++}`)), { numRuns: 25 })
    }, 60_000)
  }

  it("a task's process.send drops the message, calls its callback and warns once per child, telling what to use", async () => {
    const warnings = await processPool({ maxWorkers: 1, execArgv: quiet }).submit(tasks.warningsOnSend)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/belongs to the pool.*reportProgress\(\)/)
  })

  // Node calls process.disconnect() itself as the pool closes a child's channel, so a task's call cannot be told apart and refused.
  it("a task's process.disconnect() loses its child, as any child that ends: the pool breaks, no future waits forever", () => {
    const ex = processPool({ maxWorkers: 1 })
    const disconnecting = ex.submit(tasks.disconnect)
    const after = ex.submit(tasks.identity, 'after')
    expect(expectBroken(disconnecting.exception(10_000)).exitCode).toBe(0)
    expect(after.exception(10_000)).toBeInstanceOf(BrokenProcessPool)
  })

  it("a task's process.channel.unref() is ignored: the idle child stays, and the pool goes on", async () => {
    const ex = processPool({ maxWorkers: 1 })
    const child = await ex.submit(tasks.unrefChannel)
    await new Promise((resolve) => setTimeout(resolve, 500)) // idle: with its channel unref'd, the child would have exited
    expect(await ex.submit(tasks.pid)).toBe(child)
  })

  it("with onChildExit: 'replace', a task's process.disconnect() fails that task and a new child goes on", async () => {
    const ex = processPool({ maxWorkers: 1, onChildExit: 'replace' })
    const child = await ex.submit(tasks.pid)
    await expect(ex.submit(tasks.disconnect)).rejects.toThrow(WorkerLost)
    expect(await ex.submit(tasks.identity, 'after')).toBe('after')
    expect(await ex.submit(tasks.pid)).not.toBe(child)
  })
})

describe('no orphans', () => {
  const script = fileURLToPath(new URL('./fixtures/exit-script.ts', import.meta.url))


  it.each([
    ['is killed with SIGKILL', 'busy-children'],
    ['calls process.exit()', 'busy-children-exit'],
  ])('children exit when their parent %s, even one stuck in a loop', async (_, mode) => {
    const parent = spawn(process.execPath, ['--import', 'tsx', script, mode, 'ProcessPoolExecutor'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const pids = await new Promise<number[]>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as number[]))
      parent.once('exit', () => reject(new Error('the parent exited before printing its children')))
    })
    expect(pids).toHaveLength(2)
    if (mode === 'busy-children') {
      expect(pids.every(alive)).toBe(true)
      parent.kill('SIGKILL')
    }
    await until(() => !pids.some(alive))
  })

  it('children exit when the pool shuts down', async () => {
    const ex = processPool()
    const pids = [...wait([ex.submit(tasks.pidAfter, 100), ex.submit(tasks.pidAfter, 100)]).done].map((f) => f.result())
    await ex.shutdown()
    expect(pids.filter(alive)).toEqual([])
  })
})
