// loop.run_in_executor and asyncio.to_thread: submit to an executor (or a
// lazily started default thread pool) and get a LoopFuture back.

import { inspect } from 'node:util'
import { ExecutorShutdownError, QueueFullError } from '../concurrent/errors.js'
import { longTimeout } from '../concurrent/long-timer.js'
import { checkTimeout } from '../concurrent/validate.js'
import { Executor, type SubmitOptions } from '../executors/executor.js'
import { checkTask, type AnyFn, type ArgsOf, type ProgressOf, type ResultOf, type Task } from '../executors/task.js'
import { ThreadPoolExecutor } from '../executors/thread-pool.js'
import { LoopFuture } from './loop-future.js'
import { follow, wrapFuture } from './wrap-future.js'

let defaultExecutor: ThreadPoolExecutor | undefined
let shutdownCalled = false

/** Runs `fn(...args)` on `executor` (null: the default thread pool); the work is submitted now. */
export function runInExecutor<F extends AnyFn>(executor: Executor | null, fn: Task<F>, ...args: ArgsOf<F>): LoopFuture<ResultOf<F>> {
  return runInExecutorWith(executor, {}, fn, ...args)
}

/**
 * runInExecutor() with submit options: a `signal` that cancels the task if it
 * has not started and interrupts it if it has, a `timeoutMs`, a `transfer`
 * list, an `onProgress` callback for the task's progress reports.
 */
export function runInExecutorWith<F extends AnyFn>(executor: Executor | null, options: SubmitOptions<ProgressOf<F>>, fn: Task<F>, ...args: ArgsOf<F>): LoopFuture<ResultOf<F>> {
  const ex = executorFor(executor)
  ex.checkSubmitOptions(options) // now, not once there is room
  checkTask(fn, 'runInExecutor() fn')
  if (ex.hasRoom()) return wrapFuture(ex.submitWith(options, fn, ...args))
  // A full queue (maxQueued): wait for room instead of throwing. Cancelled meanwhile, it is never submitted.
  // Each wake tries to submit: only a full queue waits again, so a shutdown or a break ends the wait
  // with submit()'s own error (whenRoom() resolves at once then, while there is still no room).
  const loopFuture = new LoopFuture<ResultOf<F>>()
  const attempt = (): void => {
    if (loopFuture.done()) return
    try {
      follow(ex.submitWith(options, fn, ...args), loopFuture)
    } catch (error) {
      if (error instanceof QueueFullError) void ex.whenRoom().then(attempt)
      else loopFuture.setException(error)
    }
  }
  void ex.whenRoom().then(attempt)
  return wrapFuture(loopFuture, { signal: options.signal })
}

/** Runs `fn(...args)` on the default thread pool. */
export function toThread<F extends AnyFn>(fn: Task<F>, ...args: ArgsOf<F>): LoopFuture<ResultOf<F>> {
  return runInExecutor(null, fn, ...args)
}

/**
 * Makes `executor` the default for runInExecutor(null, ...) and toThread().
 * Returns the one it replaces, if any, which it does not shut down: that is
 * the caller's to do, even for the default started lazily.
 */
export function setDefaultExecutor(executor: ThreadPoolExecutor): ThreadPoolExecutor | undefined {
  if (!(executor instanceof ThreadPoolExecutor)) throw new TypeError(`executor must be ThreadPoolExecutor instance, got ${inspect(executor, { depth: 0 })}`)
  const previous = defaultExecutor
  defaultExecutor = executor
  return previous
}

/**
 * Shuts the default executor down and waits for its work. With `timeoutMs`,
 * stops waiting after that long with a warning. Afterwards runInExecutor(null,
 * ...) throws; explicit executors still work.
 */
export async function shutdownDefaultExecutor(timeoutMs?: number): Promise<void> {
  const timeout = checkTimeout(timeoutMs, 'shutdownDefaultExecutor() timeoutMs')
  shutdownCalled = true
  const executor = defaultExecutor
  if (!executor) return
  const joined = executor.shutdown()
  if (timeout === Infinity) return joined
  let timer: NodeJS.Timeout | undefined
  const timedOut = await Promise.race([
    joined.then(() => false),
    new Promise<boolean>((resolve) => (timer = longTimeout(() => resolve(true), timeout))),
  ])
  clearTimeout(timer)
  if (timedOut) process.emitWarning(`The default executor did not finish its work within ${timeoutMs} ms`, 'RuntimeWarning')
}

function executorFor(executor: Executor | null): Executor {
  if (executor instanceof Executor) return executor
  if (executor !== null) throw new TypeError(`runInExecutor expects an Executor or null (the default thread pool), got ${inspect(executor, { depth: 0 })}`)
  if (shutdownCalled) throw new ExecutorShutdownError('Executor shutdown has been called')
  return (defaultExecutor ??= new ThreadPoolExecutor({ threadNamePrefix: 'asyncio' }))
}
