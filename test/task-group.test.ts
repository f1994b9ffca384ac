// TaskGroup and withTaskGroup(): asyncio.TaskGroup on the loop side.

import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CancelledError, ExceptionGroup, InvalidStateError, TaskGroup, sleep, withTaskGroup, withTimeout, type LoopFuture } from 'concurrent-futures/loop'
import { TimeoutError } from 'concurrent-futures'
import { pool, processPool, tasks } from './helpers.js'

const boom = (message: string): Promise<never> => sleep(20).then(() => Promise.reject(new Error(message)))

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(promise).then(() => undefined, (error: unknown) => error)
}

describe.each([
  ['ThreadPoolExecutor', pool],
  ['ProcessPoolExecutor', processPool],
] as const)('TaskGroup on a %s', (_name, make) => {
  it('a first failure interrupts a running sibling in its worker: its side effect never happens; the group rejects with the failure alone', async () => {
    const executor = make({ maxWorkers: 2, interruptGraceMs: 200 })
    const path = join(mkdtempSync(join(tmpdir(), 'cf-tg-')), 'side-effect')
    let sibling: LoopFuture<void> | undefined
    const error = await rejection(withTaskGroup(async (tg) => {
      sibling = tg.run(executor, tasks.appendAfter, path, 'not interrupted', 1500)
      await sleep(300) // the sibling is running in its worker
      tg.createTask(boom('first'))
    }))
    expect(error).toBeInstanceOf(ExceptionGroup)
    expect(error).toBeInstanceOf(AggregateError)
    expect((error as ExceptionGroup).exceptions.map((e) => (e as Error).message)).toEqual(['first'])
    expect(sibling!.cancelled()).toBe(true)
    await sleep(2000)
    expect(existsSync(path)).toBe(false)
  })

  it('cancels executor tasks that have not started', async () => {
    const executor = make({ maxWorkers: 1, interruptGraceMs: 200 })
    let queued: LoopFuture<number> | undefined
    const error = await rejection(withTaskGroup((tg) => {
      tg.run(executor, tasks.spinUntilInterrupted)
      queued = tg.run(executor, tasks.add, 1, 2)
      tg.createTask(boom('failed'))
    }))
    expect((error as ExceptionGroup).errors.map((e) => (e as Error).message)).toEqual(['failed'])
    expect(queued!.cancelled()).toBe(true)
  })

  it("a task's own error named CancelledError or TimeoutError fails the group: a name is not a cancellation", async () => {
    const executor = make()
    for (const name of ['CancelledError', 'TimeoutError']) {
      let task: LoopFuture<never> | undefined
      const error = await rejection(withTaskGroup((tg) => {
        task = tg.run(executor, tasks.throwNamed, name, 'payment failed')
      }))
      expect(error).toBeInstanceOf(ExceptionGroup)
      const [failure] = (error as ExceptionGroup).errors as Error[]
      expect(Object.getPrototypeOf(failure)).toBe(Error.prototype)
      expect([failure!.name, failure!.message]).toEqual([name, 'payment failed'])
      expect(task!.cancelled()).toBe(false)
    }
  })
})

describe('TaskGroup', () => {
  it('await using waits for every task and gives their results', async () => {
    const executor = pool()
    let futures: Array<LoopFuture<number>> = []
    {
      await using tg = new TaskGroup()
      futures = [tg.run(executor, tasks.add, 1, 2), tg.createTask(sleep(50, 4)), tg.createTask(async (signal) => (signal.aborted ? 0 : 5))]
    }
    expect(futures.map((f) => f.result())).toEqual([3, 4, 5])
  })

  it('collects every failure, not the cancellations, in the order they happened', async () => {
    const error = await rejection(withTaskGroup((tg) => {
      tg.createTask(boom('a'))
      tg.createTask(Promise.reject(new Error('b')))
      tg.createTask((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
    }))
    expect((error as ExceptionGroup).exceptions.map((e) => (e as Error).message)).toEqual(['b', 'a'])
  })

  it('a body that fails alone cancels the tasks and is the one error of the group (the callback form)', async () => {
    let task: LoopFuture<unknown> | undefined
    const error = await rejection(withTaskGroup(async (tg) => {
      task = tg.createTask((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
      throw new Error('body')
    }))
    expect((error as ExceptionGroup).exceptions.map((e) => (e as Error).message)).toEqual(['body'])
    expect(task!.cancelled()).toBe(true)
  })

  it('a body cancelled on its own rethrows its CancelledError, not a group (as asyncio re-raises it)', async () => {
    const cancelled = new CancelledError('the body gave up')
    const error = await rejection(withTaskGroup(async (tg) => {
      tg.createTask(sleep(10, 'x'))
      throw cancelled
    }))
    expect(error).toBe(cancelled)
  })

  it('resolves with the body value', async () => {
    await expect(withTaskGroup(async (tg) => (await tg.createTask(sleep(10, 'x'))) + 'y')).resolves.toBe('xy')
  })

  it('an enclosing signal cancels the group, which rejects with its reason', async () => {
    const executor = pool({ interruptGraceMs: 200 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('enclosing work cancelled')), 200)
    const error = await rejection(withTaskGroup((tg) => {
      tg.run(executor, tasks.spinUntilInterrupted)
    }, { signal: controller.signal }))
    expect((error as Error).message).toBe('enclosing work cancelled')
  })

  it('inside a timeout, the expiry interrupts the group\'s executor tasks and the block throws TimeoutError', async () => {
    const executor = processPool({ interruptGraceMs: 200 })
    const error = await rejection(withTimeout(300, (t) => withTaskGroup((tg) => {
      tg.run(executor, tasks.spinUntilInterrupted)
    }, { signal: t.signal })))
    expect(error).toBeInstanceOf(TimeoutError)
  })

  it('refuses tasks once finished or shutting down, and anything but an awaitable or a function', async () => {
    const tg = new TaskGroup()
    expect(() => tg.createTask(42 as never)).toThrow(TypeError)
    await tg[Symbol.asyncDispose]()
    expect(() => tg.createTask(sleep(1))).toThrow(/finished/)
    expect(() => tg.run(null, tasks.add, 1, 2)).toThrow(InvalidStateError)
    await expect(tg[Symbol.asyncDispose]()).resolves.toBeUndefined() // a second exit does nothing
    const failing = new TaskGroup()
    failing.createTask(Promise.reject(new Error('x')))
    await sleep(10)
    expect(() => failing.createTask(sleep(1))).toThrow(/shutting down/)
    await expect(failing[Symbol.asyncDispose]()).rejects.toBeInstanceOf(ExceptionGroup)
    expect(() => new TaskGroup({ signal: 'no' as never })).toThrow(/TaskGroup option signal must be an AbortSignal/)
  })
})
