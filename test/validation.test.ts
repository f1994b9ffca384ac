// Validation at the door: every option and argument is checked before it is
// used, with a TypeError or RangeError that names it. Examples for the cases
// issue 12 found, then properties: any value for any option is refused
// clearly or accepted and works.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  asCompleted, Future, MAX_PRIORITY, MAX_WORKERS, ProcessPoolExecutor, taskRef, ThreadPoolExecutor, wait,
  type ProcessPoolOptions, type SubmitOptions, type ThreadPoolOptions,
} from 'concurrent-futures'
import { callAt, callLater, gather, runInExecutor, runInExecutorWith, shutdownDefaultExecutor, sleep, wait as loopWait, waitFor } from 'concurrent-futures/loop'
import { QueueExecutor } from 'concurrent-futures/queue'
import { finished, pool, tasks } from './helpers.js'

/** What a refusal must look like: a TypeError or RangeError whose message names `name`. */
function refuses(action: () => unknown, name: string | RegExp): void {
  let thrown: unknown
  try {
    action()
  } catch (error) {
    thrown = error
  }
  expect(thrown, 'it should throw').toBeDefined()
  expect(thrown instanceof TypeError || thrown instanceof RangeError, `a TypeError or RangeError, not ${String(thrown)}`).toBe(true)
  expect((thrown as Error).message).toMatch(name)
}

describe('executor options', () => {
  it('refuses unknown options with the nearest name, and the other pool\'s options saying whose they are', () => {
    refuses(() => new ThreadPoolExecutor({ maxWorker: 2 } as never), /unknown option 'maxWorker' for ThreadPoolExecutor: did you mean 'maxWorkers'\?/)
    refuses(() => new ProcessPoolExecutor({ maxTaskPerChild: 2 } as never), /did you mean 'maxTasksPerChild'\?/)
    refuses(() => new ThreadPoolExecutor({ maxTasksPerChild: 2 } as never), /'maxTasksPerChild' for ThreadPoolExecutor: it is an option of ProcessPoolExecutor; a ThreadPoolExecutor's is 'maxTasksPerWorker'/)
    refuses(() => new ProcessPoolExecutor({ resourceLimits: {} } as never), /'resourceLimits' for ProcessPoolExecutor: it is an option of ThreadPoolExecutor/)
    refuses(() => new ThreadPoolExecutor({ zzzzzzzz: 1 } as never), /unknown option 'zzzzzzzz' for ThreadPoolExecutor: the options are 'maxWorkers', /)
  })

  it('bounds maxWorkers by MAX_WORKERS instead of failing to allocate', () => {
    expect(MAX_WORKERS).toBe(1024)
    refuses(() => new ThreadPoolExecutor({ maxWorkers: 2 ** 31 }), /ThreadPoolExecutor option maxWorkers must be an integer from 1 to 1024 \(MAX_WORKERS\), got 2147483648/)
    refuses(() => new ProcessPoolExecutor({ maxWorkers: 2 ** 31 }), /maxWorkers must be an integer from 1 to 1024/)
    refuses(() => new ThreadPoolExecutor({ maxWorkers: '2' as never }), /maxWorkers must be an integer/)
  })

  it('refuses initargs that cannot reach a worker, at construction', () => {
    refuses(() => new ThreadPoolExecutor({ initializer: tasks.init, initargs: [() => 1] }), /ThreadPoolExecutor option initargs\[0\] cannot be sent to a worker .*functions cannot be sent/)
    refuses(() => new ProcessPoolExecutor({ initializer: tasks.init, initargs: [1, Symbol('s')] }), /initargs\[1\] cannot be sent/)
    refuses(() => new ProcessPoolExecutor({ initargs: [10n], serialization: 'json' }), /initargs cannot be sent as JSON/)
  })

  it('refuses a string where an array belongs, instead of spreading it into characters', () => {
    refuses(() => new ThreadPoolExecutor({ initargs: 'ab' as never }), /initargs must be an array of values, got 'ab' \(a string: wrap it, \['ab'\]\)/)
    refuses(() => new ProcessPoolExecutor({ execArgv: '--x' as never }), /ProcessPoolExecutor option execArgv must be an array of strings/)
    refuses(() => new ProcessPoolExecutor({ execArgv: true as never }), /execArgv must be an array of strings/)
    refuses(() => new ProcessPoolExecutor({ execArgv: ['--a\0b'] }), /execArgv\[0\] must be a string without NUL/)
  })

  it('checks env, threadNamePrefix, submitStacks and resourceLimits', () => {
    refuses(() => new ProcessPoolExecutor({ env: { A: 'x\0y' } }), /ProcessPoolExecutor option env\.A must be a string without NUL/)
    refuses(() => new ProcessPoolExecutor({ env: { A: 1 } as never }), /env\.A must be a string, got 1/)
    refuses(() => new ProcessPoolExecutor({ env: { 'A=B': 'x' } }), /env names must be non-empty strings without '='/)
    refuses(() => new ProcessPoolExecutor({ env: 'PATH=/bin' as never }), /env must be an object of strings/)
    refuses(() => new ThreadPoolExecutor({ threadNamePrefix: 5 as never }), /threadNamePrefix must be a string, got 5/)
    refuses(() => new ThreadPoolExecutor({ submitStacks: 'no' as never }), /submitStacks must be true or false/)
    refuses(() => new ThreadPoolExecutor({ resourceLimits: { stackSizeMb: 0.01 } }), /resourceLimits\.stackSizeMb must be a finite number >= 0\.5 .*aborts this process/)
    refuses(() => new ThreadPoolExecutor({ resourceLimits: { maxOldGenerationSizeMb: 2 } }), /resourceLimits\.maxOldGenerationSizeMb must be a finite number >= 8/)
    refuses(() => new ThreadPoolExecutor({ resourceLimits: { stackSize: 4 } as never }), /resourceLimits has no option 'stackSize': did you mean 'stackSizeMb'\?/)
    refuses(() => new ThreadPoolExecutor({ resourceLimits: 'small' as never }), /resourceLimits must be an object/)
    refuses(() => new ThreadPoolExecutor({ idleTimeoutMs: -1 }), /idleTimeoutMs must be a number of milliseconds >= 0/)
    refuses(() => new ThreadPoolExecutor({ initializer: 'init' as never }), /initializer must be a function or a TaskRef/)
    refuses(() => new ThreadPoolExecutor(5 as never), /the options of ThreadPoolExecutor must be an object/)
  })

  it('checks the QueueExecutor\'s options before it starts anything', () => {
    const base = { connection: 'redis://127.0.0.1:1', queue: 'q' }
    refuses(() => new QueueExecutor({ ...base, attempt: 2 } as never), /did you mean 'attempts'\?/)
    refuses(() => new QueueExecutor({ ...base, maxWorkers: 2 } as never), /'maxWorkers' for QueueExecutor: .*--concurrency/)
    refuses(() => new QueueExecutor({ ...base, reconcileMs: 2 ** 40 }), /reconcileMs must be an integer from 1 to 2147483647/)
    refuses(() => new QueueExecutor({ ...base, removeOnFail: { age: -1 } }), /removeOnFail\.age must be an integer >= 0/)
    refuses(() => new QueueExecutor({ ...base, backoff: { type: 'linear', delay: 1 } as never }), /backoff must be milliseconds/)
    refuses(() => new QueueExecutor({ queue: 'q' } as never), /connection is required/)
    refuses(() => new QueueExecutor(null as never), /the options of QueueExecutor must be an object, got null/)
  })

  it('checks shutdown() options', async () => {
    const ex = pool()
    refuses(() => ex.shutdown({ cancelFuture: true } as never), /did you mean 'cancelFutures'\?/)
    refuses(() => ex.shutdown({ wait: 'yes' as never }), /shutdown\(\) option wait must be true or false/)
    await ex.shutdown()
  })
})

describe('submit options', () => {
  it('refuses a transfer list that is not an array, and the pool keeps working', () => {
    const ex = pool({ maxWorkers: 1 })
    refuses(() => ex.submitWith({ transfer: 5 as never }, tasks.add, 1, 2), /submitWith\(\) option transfer must be an array of transferables/)
    refuses(() => ex.submitWith({ transfer: [new Uint8Array(4)] as never }, tasks.add, 1, 2), /transfer\[0\] is a Uint8Array, which cannot be moved: list its \.buffer instead/)
    refuses(() => ex.submitWith({ transfer: [new SharedArrayBuffer(4)] as never }, tasks.add, 1, 2), /SharedArrayBuffer, which is shared, not moved/)
    expect(ex.submit(tasks.add, 1, 2).result(10_000)).toBe(3)
  })

  it('refuses null, undefined and unknown keys as submitWith() options', () => {
    const ex = pool({ maxWorkers: 1 })
    refuses(() => ex.submitWith(null as never, tasks.add, 1, 2), /the options of submitWith\(\) must be an object, got null/)
    refuses(() => ex.submitWith(undefined as never, tasks.add, 1, 2), /submitWith\(\) takes its options first/)
    refuses(() => ex.submitWith({ timeout: 5 } as never, tasks.add, 1, 2), /unknown option 'timeout' for submitWith\(\): did you mean 'timeoutMs'\?/)
    refuses(() => ex.submitWith({ signal: {} as never }, tasks.add, 1, 2), /signal must be an AbortSignal/)
  })

  it('checks runInExecutorWith() options before it waits for room', async () => {
    const ex = pool({ maxWorkers: 1, maxQueued: 1 })
    const busy = ex.submit(tasks.sleepSync, 50) // queued: no room until the next tick
    expect(ex.hasRoom()).toBe(false)
    refuses(() => runInExecutorWith(ex, { timeoutMs: -1 }, tasks.add, 1, 2), /timeoutMs must be a number of milliseconds >= 0/)
    await busy
  })

  it('checks map() options', () => {
    const ex = pool({ maxWorkers: 1 })
    refuses(() => ex.map(tasks.identity, [1], { chunkSize: 2 } as never), /unknown option 'chunkSize' for map\(\): did you mean 'chunksize'\?/)
    refuses(() => ex.map(tasks.identity, [1], { timeout: NaN }), /map\(\) option timeout must be a number of milliseconds/)
    refuses(() => (ex.map as (fn: unknown, ...rest: unknown[]) => unknown)(5, []), /map\(\) fn must be a function or a TaskRef/)
  })
})

describe('function arguments', () => {
  it('wait() and asCompleted() take an iterable of Futures, and say so', () => {
    refuses(() => wait([1] as never), /wait\(\) takes Futures only, but item 0 is 1/)
    refuses(() => wait(null as never), /wait\(\) takes an iterable of Futures .*got null/)
    refuses(() => wait(finished(1) as never), /wait\(\) takes an iterable of Futures, got one Future: wrap it, \[future\]/)
    refuses(() => wait([finished(1)], { returnWhen: 'ANY' as never }), /returnWhen must be 'FIRST_COMPLETED' or 'FIRST_EXCEPTION' or 'ALL_COMPLETED', got 'ANY'/)
    refuses(() => wait([finished(1)], { timeOut: 1 } as never), /did you mean 'timeout'\?/)
    refuses(() => asCompleted([1] as never), /asCompleted\(\) takes Futures only/)
    refuses(() => asCompleted(new Future() as never), /got one Future/)
  })

  it('shutdownDefaultExecutor() refuses a bad timeout before it shuts anything down', async () => {
    for (const bad of [-1, NaN, '10', {}]) {
      await expect(shutdownDefaultExecutor(bad as never)).rejects.toThrow(/shutdownDefaultExecutor\(\) timeoutMs/)
    }
    await expect(runInExecutor(null, tasks.add, 1, 2)).resolves.toBe(3) // the default executor is still there
  })

  it('the loop\'s wait() and gather() name what is wrong', async () => {
    await expect(loopWait([1] as never)).rejects.toThrow(/wait\(\) takes awaitables only .*item 0 is 1/)
    await expect(loopWait([sleep(1)], { timeout: -5 })).rejects.toThrow(RangeError)
    refuses(() => gather(sleep(1), { returnExceptions: 'yes' } as never), /gather\(\) option returnExceptions must be true or false/)
    refuses(() => gather(sleep(1), { returnException: true } as never), /did you mean 'returnExceptions'\?/)
    refuses(() => waitFor(sleep(1), 10, { signa: undefined } as never), /did you mean 'signal'\?/)
  })

  it('taskRef() and a Future\'s timeouts are checked', () => {
    refuses(() => taskRef(new URL('./fixtures/tasks.ts', import.meta.url), 5 as never), /taskRef\(\) exportName must be a string, got 5/)
    refuses(() => finished(1).result('1' as never), /result\(\) timeoutMs must be a number of milliseconds/)
    refuses(() => finished(1).exception(-1), /exception\(\) timeoutMs must be a number of milliseconds >= 0/)
  })
})

// ---- properties ----

/** Values worth trying for any option: anything at all, and the edges of the usual kinds. */
const anyValue = fc.oneof(
  fc.anything(),
  fc.constantFrom(-1, 0, 0.5, 1, 2, 1024, 1025, 2 ** 31, 2 ** 53, Infinity, -Infinity, NaN, '', 'x', '1', true, false, null, [], {}, ['a'], [1], () => 1, Symbol('s'), 10n, new ArrayBuffer(1)),
)

/** An options object: any of `keys` (and sometimes a stray one), each with any value. */
function optionsOf(keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries([...keys, 'stray'].map((k) => [k, anyValue])), { requiredKeys: [] })
}

const threadKeys = ['maxWorkers', 'initializer', 'initargs', 'idleTimeoutMs', 'interruptGraceMs', 'maxQueued', 'submitStacks', 'threadNamePrefix', 'maxTasksPerWorker', 'resourceLimits', 'maxTasksPerChild'] as const
const processKeys = ['maxWorkers', 'initializer', 'initargs', 'idleTimeoutMs', 'interruptGraceMs', 'maxQueued', 'submitStacks', 'maxTasksPerChild', 'execArgv', 'env', 'serialization', 'onChildExit', 'threadNamePrefix'] as const

/** Mostly a valid value, sometimes any value at all. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: anyValue, weight: 1 })

/** Either a clear refusal naming one of the options given, or what `make` made (never with an unknown key). */
function constructOrRefuse<E>(make: () => E, options: Record<string, unknown>): E | undefined {
  try {
    const made = make()
    expect(Object.keys(options), 'an unknown option is refused').not.toContain('stray')
    return made
  } catch (error) {
    expect(error instanceof TypeError || error instanceof RangeError, `TypeError or RangeError, not ${String(error)}`).toBe(true)
    const named = Object.keys(options).some((key) => (error as Error).message.includes(key))
    expect(named, `the error names one of ${Object.keys(options).join(', ')}: ${(error as Error).message}`).toBe(true)
    return undefined
  }
}

/** Over generated options: each accepted configuration runs a task and shuts down; some must be accepted. */
async function runsAccepted<E extends ThreadPoolExecutor | ProcessPoolExecutor>(
  options: fc.Arbitrary<Record<string, unknown>>, make: (given: Record<string, unknown>) => E, numRuns: number,
): Promise<void> {
  let accepted = 0
  await fc.assert(
    fc.asyncProperty(options, async (given) => {
      const ex = constructOrRefuse(() => make(given), given)
      if (!ex) return
      accepted++
      try {
        expect(await ex.submit(tasks.add, 1, 2)).toBe(3)
      } finally {
        await ex.shutdown()
      }
    }),
    { numRuns, examples: [[{}]] },
  )
  expect(accepted).toBeGreaterThan(0)
}

describe('any value for any option (property)', () => {
  it('a pool\'s constructor refuses it clearly or accepts it', async () => {
    const made: Array<{ shutdown(): Promise<void> }> = []
    fc.assert(
      fc.property(optionsOf(threadKeys), optionsOf(processKeys), (thread, processes) => {
        const t = constructOrRefuse(() => new ThreadPoolExecutor(thread as ThreadPoolOptions), thread)
        const p = constructOrRefuse(() => new ProcessPoolExecutor(processes as ProcessPoolOptions), processes)
        for (const ex of [t, p]) if (ex) made.push(ex)
      }),
      { numRuns: 300 },
    )
    // Constructing starts nothing: these shut down at once.
    await Promise.all(made.map((ex) => ex.shutdown()))
  })

  it('an accepted thread pool configuration runs a task and shuts down', async () => {
    // Start-up flags are left to the start-up tests: here the values are the ones that reach dispatch.
    const limits = fc.record({ maxOldGenerationSizeMb: fc.integer({ min: 16, max: 256 }), stackSizeMb: fc.double({ min: 0.5, max: 8, noNaN: true }) }, { requiredKeys: [] })
    const options = fc.record({
      maxWorkers: mostly(fc.integer({ min: 1, max: MAX_WORKERS })),
      idleTimeoutMs: mostly(fc.constantFrom(0, 1, 2 ** 31, 2 ** 40, Infinity)),
      interruptGraceMs: mostly(fc.constantFrom(0, 10, Infinity)),
      maxQueued: mostly(fc.integer({ min: 1, max: 10 })),
      maxTasksPerWorker: mostly(fc.integer({ min: 1, max: 3 })),
      submitStacks: mostly(fc.boolean()),
      threadNamePrefix: mostly(fc.string()),
      initargs: mostly(fc.array(fc.jsonValue(), { maxLength: 3 })),
      resourceLimits: mostly(limits),
    }, { requiredKeys: [] })
    await runsAccepted(options, (given) => new ThreadPoolExecutor({ initializer: tasks.init, ...given } as ThreadPoolOptions), 25)
  })

  it('an accepted process pool configuration runs a task and shuts down', async () => {
    const options = fc.record({
      maxWorkers: mostly(fc.integer({ min: 1, max: MAX_WORKERS })),
      idleTimeoutMs: mostly(fc.constantFrom(0, 2 ** 31, Infinity)),
      interruptGraceMs: mostly(fc.constantFrom(0, 10, Infinity)),
      serialization: mostly(fc.constantFrom('advanced', 'json')),
      onChildExit: mostly(fc.constantFrom('break', 'replace')),
      initargs: mostly(fc.array(fc.jsonValue(), { maxLength: 3 })),
      env: mostly(fc.constant({ ...process.env, EXTRA: 'x' })),
    }, { requiredKeys: [] })
    await runsAccepted(options, (given) => new ProcessPoolExecutor({ initializer: tasks.init, ...given } as ProcessPoolOptions), 8)
  })

  it('submitWith(), map(), wait() and asCompleted() refuse clearly or work', async () => {
    const ex = pool({ maxWorkers: 1 })
    const submitOptions = fc.record({
      signal: fc.oneof(fc.constantFrom(AbortSignal.abort(), new AbortController().signal), anyValue),
      timeoutMs: fc.oneof(fc.constantFrom(0, 1, 2 ** 31, Infinity), anyValue),
      transfer: fc.oneof(fc.constant([new ArrayBuffer(8)]), anyValue),
      priority: fc.oneof(fc.constantFrom(0, 1, MAX_PRIORITY, MAX_PRIORITY + 1), anyValue),
      stray: anyValue,
    }, { requiredKeys: [] })
    await fc.assert(
      fc.asyncProperty(submitOptions, async (given) => {
        const future = constructOrRefuse(() => ex.submitWith(given as SubmitOptions, tasks.add, 1, 2), given)
        if (future) await future.then(() => {}, () => {}) // settles, either way
      }),
      { numRuns: 60 },
    )
    await fc.assert(
      fc.asyncProperty(optionsOf(['timeout', 'chunksize', 'buffersize', 'priority']), async (given) => {
        const results = constructOrRefuse(() => ex.map(tasks.identity, [1, 2, 3], given), given)
        if (!results) return
        const values: unknown[] = []
        try {
          for await (const value of results) values.push(value)
          expect(values).toEqual([1, 2, 3])
        } catch (error) {
          expect((error as Error).name).toBe('TimeoutError') // a timeout of 0 or so
        }
      }),
      { numRuns: 60 },
    )
    fc.assert(
      fc.property(optionsOf(['timeout', 'returnWhen']), anyValue, (given, futures) => {
        constructOrRefuse(() => wait([finished(1)], given as never), given)
        constructOrRefuse(() => [...asCompleted([finished(1)], given as never)], given)
        // Any value as the futures: refused naming wait(), or an iterable of Futures.
        try {
          wait(futures as never)
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError)
          expect((error as Error).message).toMatch(/^wait\(\) takes/)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('the loop\'s timers and waits refuse any bad delay clearly, and never fire early', async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, optionsOf(['timeout', 'returnWhen']), async (delay, options) => {
        const started = performance.now()
        const slept = constructOrRefuse(() => sleep(delay as number), { 'sleep() ms': 1 })
        const later = constructOrRefuse(() => callLater(delay as number, () => {}), { 'callLater() delayMs': 1 })
        const at = constructOrRefuse(() => callAt(delay as number, () => {}), { 'callAt() when': 1 })
        const outer = constructOrRefuse(() => waitFor(sleep(5), delay as number), { 'waitFor() timeoutMs': 1 })
        const settledOuter = outer?.then(() => {}, (error: Error) => expect(error.name).toBe('TimeoutError'))
        await loopWait([sleep(1)], options as never).then(() => {}, (error: unknown) => {
          expect(error instanceof TypeError || error instanceof RangeError).toBe(true)
          expect(Object.keys(options).some((key) => (error as Error).message.includes(key))).toBe(true)
        })
        await settledOuter
        if (slept) {
          await Promise.race([slept, sleep(2)])
          // Done already only if its delay has passed.
          if (slept.done()) expect(delay as number).toBeLessThanOrEqual(performance.now() - started + 1)
          slept.cancel()
        }
        later?.cancel()
        at?.cancel()
      }),
      { numRuns: 100 },
    )
  })
})
