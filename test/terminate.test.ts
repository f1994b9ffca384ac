// terminateWorkers() and killWorkers() (Python 3.14): every worker stops now,
// running futures fail naming the call, pending ones are cancelled.

import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BrokenProcessPool, BrokenThreadPool, ExecutorShutdownError, type Future } from 'concurrent-futures'
import { pool, processPool, tasks, until } from './helpers.js'
import { alive } from './soak/system.js'

/** The lines of `path`, once it has `count` pid lines. */
async function pids(path: string, count: number): Promise<number[]> {
  const read = (): string[] => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter((l) => /^\d+$/.test(l)) : [])
  await until(() => read().length >= count, 15_000)
  return read().map(Number)
}

async function failure(future: Future<unknown>): Promise<unknown> {
  return future.then(() => undefined, (error: unknown) => error)
}

describe.each(['terminateWorkers', 'killWorkers'] as const)('ProcessPoolExecutor.%s()', (call) => {
  it('stops every child now: no child process is left (checked by PID); running futures fail naming the call, pending ones are cancelled', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cf-term-')), 'pids')
    // A long grace: shutdown() alone would leave these spinning children for 60 s.
    const executor = processPool({ maxWorkers: 2, interruptGraceMs: 60_000 })
    const running = [executor.submit(tasks.notePidThenSpin, path), executor.submit(tasks.notePidThenSpin, path)]
    const pending = executor.submit(tasks.add, 1, 2)
    const children = await pids(path, 2)
    expect(children.every(alive)).toBe(true)
    const started = Date.now()
    await executor[call]()
    expect(Date.now() - started).toBeLessThan(10_000)
    for (const pid of children) expect(alive(pid)).toBe(false)
    for (const future of running) {
      const error = await failure(future)
      expect(error).toBeInstanceOf(BrokenProcessPool)
      expect((error as Error).message).toContain(`${call}()`)
    }
    expect(pending.cancelled()).toBe(true)
    expect(() => executor.submit(tasks.add, 1, 2)).toThrow(ExecutorShutdownError)
  })

  it(`sends ${call === 'terminateWorkers' ? 'SIGTERM, which a child may handle' : 'SIGKILL, which no child can handle'}`, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cf-term-')), 'signals')
    const executor = processPool({ maxWorkers: 1 })
    const trapped = executor.submit(tasks.trapSigterm, path)
    await until(() => existsSync(path), 15_000)
    await executor[call]()
    expect(await failure(trapped)).toBeInstanceOf(BrokenProcessPool)
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toEqual(call === 'terminateWorkers' ? ['trapping', 'SIGTERM'] : ['trapping'])
  })

  it('is a no-op when called again, or after shutdown()', async () => {
    const executor = processPool()
    await executor.submit(tasks.add, 1, 2)
    await executor.shutdown()
    await expect(executor[call]()).resolves.toBeUndefined()
    await expect(executor[call]()).resolves.toBeUndefined()
  })

  it('ends a shutdown() that waits on a task that would never end', async () => {
    const executor = processPool({ maxWorkers: 1 })
    const hung = executor.submit(tasks.spinForever)
    await until(() => hung.running())
    const shutdown = executor.shutdown()
    await executor[call]()
    await shutdown
    expect(await failure(hung)).toBeInstanceOf(BrokenProcessPool)
  })
})

describe.each(['terminateWorkers', 'killWorkers'] as const)('ThreadPoolExecutor.%s()', (call) => {
  it('terminates the threads, even one spinning forever: running futures fail naming the call, pending ones are cancelled', async () => {
    const executor = pool({ maxWorkers: 2 })
    const running = [executor.submit(tasks.spinForever), executor.submit(tasks.spinForever)]
    const pending = executor.submit(tasks.add, 1, 2)
    await until(() => running.every((f) => f.running()))
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
    await executor[call]()
    for (const future of running) {
      const error = await failure(future)
      expect(error).toBeInstanceOf(BrokenThreadPool)
      expect((error as Error).message).toContain(`${call}()`)
    }
    expect(pending.cancelled()).toBe(true)
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length).toBeLessThan(before)
    expect(() => executor.submit(tasks.add, 1, 2)).toThrow(ExecutorShutdownError)
    await expect(executor[call]()).resolves.toBeUndefined()
  })
})
