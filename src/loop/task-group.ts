// asyncio.TaskGroup: tasks that end together. The group waits for every task;
// the first failure cancels the rest (executor tasks through the same signal
// as runInExecutorWith({ signal })), and the group rejects with an
// ExceptionGroup of every failure, not of the cancellations.

import { CancelledError as FuturesCancelled } from '../concurrent/errors.js'
import { Future } from '../concurrent/future.js'
import { checkOptions, signal as signalCheck, show, type Schema } from '../concurrent/validate.js'
import type { Executor } from '../executors/executor.js'
import type { AnyFn, ArgsOf, ResultOf, Task } from '../executors/task.js'
import { CancelledError, ExceptionGroup, InvalidStateError } from './errors.js'
import { LoopFuture } from './loop-future.js'
import { runInExecutorWith } from './run-in-executor.js'

/** Options of a TaskGroup and withTaskGroup(). */
export interface TaskGroupOptions {
  /** The enclosing work: aborting it cancels the group, which then rejects with the signal's reason. */
  signal?: AbortSignal
}

const taskGroupSchema: Schema<TaskGroupOptions> = { signal: signalCheck }

/** What createTask() takes: an awaitable, or a function given the task's own signal. */
export type TaskSource<T> = PromiseLike<T> | ((signal: AbortSignal) => T | PromiseLike<T>)

type State = 'open' | 'exiting' | 'finished'

/** TaskGroup's exit for withTaskGroup(), which alone knows whether the body threw. */
let exitGroup: (group: TaskGroup, error: unknown, failed: boolean) => Promise<void>

/**
 * asyncio's TaskGroup: tasks that end together; the first failure cancels the rest.
 * @example
 * await using tg = new TaskGroup()
 * const a = tg.run(pool, fib, 30)
 * const b = tg.run(pool, fib, 31)
 */
export class TaskGroup implements AsyncDisposable {
  readonly #controller = new AbortController()
  readonly #tasks = new Set<AbortController>()
  readonly #errors: unknown[] = []
  #state: State = 'open'
  #parentReason: { reason: unknown } | undefined
  #onEmpty: (() => void) | undefined
  readonly #detach: () => void = () => undefined

  constructor(options?: TaskGroupOptions) {
    const { signal } = checkOptions(options, taskGroupSchema, 'TaskGroup')
    if (!signal) return
    const onAbort = (): void => {
      this.#parentReason ??= { reason: signal.reason }
      this.#abort(signal.reason)
    }
    if (signal.aborted) onAbort()
    else {
      signal.addEventListener('abort', onAbort, { once: true })
      this.#detach = () => signal.removeEventListener('abort', onAbort)
    }
  }

  /** Aborts when the group cancels its tasks (a task failed, the body threw, or the enclosing signal aborted): pass it on. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Runs `task` in the group. A function is called now with the task's signal, which aborts when the task is cancelled. */
  createTask<T>(task: TaskSource<T>): LoopFuture<Awaited<T>> {
    const controller = this.#admit('createTask()')
    let awaitable: unknown
    try {
      awaitable = typeof task === 'function' ? task(controller.signal) : task
    } catch (error) {
      awaitable = Promise.reject(error)
    }
    if (typeof task !== 'function' && typeof (awaitable as PromiseLike<T> | null)?.then !== 'function') {
      this.#tasks.delete(controller)
      throw new TypeError(`createTask() takes an awaitable or a function of an AbortSignal, got ${show(task)}`)
    }
    // A future given as it is is cancelled with the task.
    if (awaitable instanceof LoopFuture || awaitable instanceof Future) {
      const future = awaitable
      controller.signal.addEventListener('abort', () => future.cancel(), { once: true })
    }
    return this.#track(Promise.resolve(awaitable as T), controller)
  }

  /** runInExecutorWith() in the group: cancelled if not started, interrupted if running, when the group cancels its tasks. */
  run<F extends AnyFn>(executor: Executor | null, fn: Task<F>, ...args: ArgsOf<F>): LoopFuture<ResultOf<F>> {
    const controller = this.#admit('run()')
    let submitted
    try {
      submitted = runInExecutorWith(executor, { signal: controller.signal }, fn, ...args)
    } catch (error) {
      this.#tasks.delete(controller)
      throw error
    }
    return this.#track(Promise.resolve(submitted), controller)
  }

  /** `await using tg = new TaskGroup()`: waits for every task (the block's own error cannot be seen here: see withTaskGroup()). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#exit(undefined, false)
  }

  /** The end of the group's body; `failed`: the body threw `error`, which joins the group's failures unless it is a cancellation (the caller rethrows it otherwise). */
  async #exit(error: unknown, failed: boolean): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'exiting'
    if (failed) this.#abort(new CancelledError('TaskGroup: the body failed, cancelling its tasks'))
    while (this.#tasks.size > 0) await new Promise<void>((resolve) => (this.#onEmpty = resolve))
    this.#state = 'finished'
    this.#detach()
    if (failed && !this.#isCancellation(error)) this.#errors.push(error)
    if (this.#errors.length > 0) throw new ExceptionGroup(this.#errors, 'unhandled errors in a TaskGroup')
    if (this.#parentReason) throw this.#parentReason.reason
  }

  #admit(call: string): AbortController {
    if (this.#state === 'finished') throw new InvalidStateError(`${call}: this TaskGroup is finished; start a new TaskGroup`)
    if (this.#controller.signal.aborted) throw new InvalidStateError(`${call}: this TaskGroup is shutting down (a task failed or it was cancelled); it takes no new tasks`)
    const controller = new AbortController()
    this.#tasks.add(controller)
    return controller
  }

  #track<T>(promise: Promise<T>, controller: AbortController): LoopFuture<Awaited<T>> {
    const future = new LoopFuture<Awaited<T>>()
    // The user's cancel() cancels this task alone.
    future.watch(() => future.cancelled() && controller.abort(new CancelledError('the task was cancelled')))
    const end = (): void => {
      this.#tasks.delete(controller)
      if (this.#tasks.size === 0) this.#onEmpty?.()
    }
    promise.then(
      (value) => {
        if (!future.done()) future.setResult(value as Awaited<T>)
        end()
      },
      (error: unknown) => {
        if (error === controller.signal.reason || this.#isCancellation(error)) future.cancel()
        else {
          this.#errors.push(error)
          if (!future.done()) future.setException(error)
          this.#abort(new CancelledError('TaskGroup: a task failed, cancelling the others'))
        }
        end()
      },
    )
    return future
  }

  #isCancellation(error: unknown): boolean {
    return error instanceof CancelledError || error instanceof FuturesCancelled || (this.#parentReason !== undefined && error === this.#parentReason.reason) || error === this.#controller.signal.reason
  }

  /** Cancels every task, once. */
  #abort(reason: unknown): void {
    if (this.#controller.signal.aborted) return
    this.#controller.abort(reason)
    for (const task of this.#tasks) task.abort(reason)
  }

  static {
    exitGroup = (group, error, failed) => group.#exit(error, failed)
  }
}

/**
 * The callback form, which sees the body's error as asyncio does: a body that
 * throws cancels the tasks, and its error joins the ExceptionGroup. Resolves
 * with the body's value once every task is done.
 */
export async function withTaskGroup<T>(body: (group: TaskGroup) => T | PromiseLike<T>, options?: TaskGroupOptions): Promise<Awaited<T>> {
  if (typeof body !== 'function') throw new TypeError(`withTaskGroup() takes a function of the group, got ${show(body)}`)
  const group = new TaskGroup(options)
  let value: Awaited<T>
  try {
    value = await body(group)
  } catch (error) {
    await exitGroup(group, error, true)
    throw error // a failed body with no task failures, such as a cancellation of its own
  }
  await exitGroup(group, undefined, false)
  return value
}
