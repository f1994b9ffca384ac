// The Executor API shared by every pool: submit, map, shutdown, using.

import type { TransferListItem } from 'node:worker_threads'
import type { Future } from '../concurrent/future.js'
import { boolean, checkOptions, func, milliseconds, priority, signal, transferables, type Schema } from '../concurrent/validate.js'
import { MapResults, type MapOptions } from './map.js'
import { checkTask, type AnyFn, type ArgsOf, type ProgressOf, type ResultOf, type ReturnOf, type StreamFn, type Task, type YieldOf } from './task.js'
import type { TaskStream } from './task-stream.js'

/** Per-task options of `submitWith()`: an AbortSignal, a timeout, transfer lists, a priority and a progress callback. */
export interface SubmitOptions<P = unknown> {
  /** Aborting cancels the task if it has not started, and interrupts it if it has. */
  signal?: AbortSignal
  /** Interrupts the task once it has run this long (counted from its start, not from submit); Infinity: never. */
  timeoutMs?: number
  /** Transferables among the arguments to move to the worker instead of copying. */
  transfer?: readonly TransferListItem[]
  /**
   * Which waiting task starts first: an integer from 0 (the default) to 2,097,151, lower first, first
   * submitted first within one. It orders only tasks waiting for a worker, not the few a worker already holds.
   */
  priority?: number
  /** Called with each progress value the task reports: future.onProgress(onProgress), from the start. */
  onProgress?: (value: P) => void
}

/** Options of `shutdown()`: whether to wait for running work and to cancel queued futures. */
export interface ShutdownOptions {
  /** Resolve only once every pending future is done and the workers have exited (default true). */
  wait?: boolean
  /** Cancel every future that has not started (default false). */
  cancelFutures?: boolean
}

/** The checks of SubmitOptions; a timeout of Infinity is no timeout. */
export const submitSchema: Schema<SubmitOptions> = {
  signal,
  timeoutMs: (value, name) => {
    const ms = milliseconds(value, name)
    return ms === Infinity ? undefined : ms
  },
  transfer: transferables,
  priority,
  onProgress: func<(value: unknown) => void>,
}

const shutdownSchema: Schema<ShutdownOptions> = { wait: boolean, cancelFutures: boolean }

export function checkShutdownOptions(options: unknown): ShutdownOptions {
  return checkOptions(options, shutdownSchema, 'shutdown()')
}

/** What submit() and map() pass: no per-call options, and nothing to check. */
const NO_OPTIONS: SubmitOptions = Object.freeze({})
/** submitWith(undefined, fn) (or streamWith) is a forgotten argument, unlike an absent options object elsewhere. */
export function notForgotten(options: unknown, call: 'submit' | 'stream' = 'submit'): unknown {
  if (options === undefined) throw new TypeError(`${call}With() takes its options first: ${call}With({ timeoutMs: 1000 }, fn, ...args); without options, call ${call}(fn, ...args)`)
  return options
}

/** The options' onProgress, from the start: applied here, once, for every executor. */
function followProgress(future: Future<unknown>, { onProgress }: SubmitOptions): Future<unknown> {
  if (onProgress) future.onProgress(onProgress)
  return future
}

type Iterables<A extends readonly unknown[]> = { [K in keyof A]: Iterable<A[K]> }

/** What every executor offers, as in CPython: `submit`, `map`, `shutdown`, and `await using` to shut down. */
export abstract class Executor {
  /** Schedules `fn(...args)` and returns a Future for its result. */
  submit<F extends AnyFn>(fn: Task<F>, ...args: ArgsOf<F>): Future<ResultOf<F>, ProgressOf<F>> {
    return this.schedule(fn, args, NO_OPTIONS, false) as Future<ResultOf<F>, ProgressOf<F>>
  }

  /** submit() with per-call options. */
  submitWith<F extends AnyFn>(options: SubmitOptions<ProgressOf<F>>, fn: Task<F>, ...args: ArgsOf<F>): Future<ResultOf<F>, ProgressOf<F>> {
    const checked = this.checkSubmitOptions(options)
    return followProgress(this.schedule(fn, args, checked, false), checked) as Future<ResultOf<F>, ProgressOf<F>>
  }

  /** @internal Checks what submitWith() was given, as submitWith() will: runInExecutorWith() checks before it waits for room. */
  checkSubmitOptions(options: unknown): SubmitOptions {
    return checkOptions(notForgotten(options), submitSchema, 'submitWith()')
  }

  /**
   * Runs the generator function `fn(...args)` in a worker and streams what it
   * yields back, for `for await...of`, with backpressure; `result` is the
   * Future of what it returns (see TaskStream).
   */
  stream<F extends StreamFn>(fn: Task<F>, ...args: ArgsOf<F>): TaskStream<YieldOf<F>, ReturnOf<F>>
  // A `function*` expression is typed only once its arguments are: its types follow from theirs.
  stream<A extends unknown[], F extends StreamFn<A>>(fn: F, ...args: A): TaskStream<YieldOf<F>, ReturnOf<F>>
  stream(fn: Task<AnyFn>, ...args: unknown[]): TaskStream<unknown, unknown> {
    return this.scheduleStream(fn, args, NO_OPTIONS)
  }

  /** stream() with per-call options, as submitWith() takes them (a timeout counts the time spent waiting for the consumer too). */
  streamWith<F extends StreamFn>(options: SubmitOptions, fn: Task<F>, ...args: ArgsOf<F>): TaskStream<YieldOf<F>, ReturnOf<F>>
  streamWith<A extends unknown[], F extends StreamFn<A>>(options: SubmitOptions, fn: F, ...args: A): TaskStream<YieldOf<F>, ReturnOf<F>>
  streamWith(options: SubmitOptions, fn: Task<AnyFn>, ...args: unknown[]): TaskStream<unknown, unknown> {
    const checked = checkOptions(notForgotten(options, 'stream'), submitSchema, 'streamWith()')
    const stream = this.scheduleStream(fn, args, checked)
    followProgress(stream.result, checked)
    return stream
  }

  /**
   * Calls `fn` on the items of the iterables in turn (like Array.prototype.map
   * over their zip), concurrently; results come back in input order, by
   * blocking `for...of` or by `for await...of`. Options go last.
   */
  map<F extends AnyFn>(fn: Task<F>, ...iterables: Iterables<ArgsOf<F>>): MapResults<ResultOf<F>>
  map<F extends AnyFn>(fn: Task<F>, ...iterablesThenOptions: [...Iterables<ArgsOf<F>>, MapOptions]): MapResults<ResultOf<F>>
  map(fn: Task<AnyFn>, ...rest: unknown[]): MapResults<unknown> {
    checkTask(fn, 'map() fn') // even when the iterables are empty
    const last = rest.at(-1)
    const hasOptions = typeof last === 'object' && last !== null && !(Symbol.iterator in last)
    const options = (hasOptions ? rest.pop() : {}) as MapOptions
    return new MapResults(
      (argLists, chunk, priority) => this.schedule(fn, chunk ? argLists : argLists[0]!, priority === undefined ? NO_OPTIONS : { priority }, chunk),
      () => this.hasRoom(),
      rest as Iterable<unknown>[],
      options,
    )
  }

  /** Whether submit() would be accepted now rather than throw QueueFullError (always, unless `maxQueued` is set). */
  hasRoom(): boolean {
    return true
  }

  /** Resolves when the queue has room again (or the executor shut down or broke, so submit() would say why). */
  whenRoom(): Promise<void> {
    return Promise.resolve()
  }

  /**
   * Stops accepting work. Queued work still runs unless `cancelFutures`; the
   * promise resolves when it is done and the workers have exited.
   */
  abstract shutdown(options?: ShutdownOptions): Promise<void>

  /** `using ex = ...`: shuts down and blocks until pending work is done. */
  abstract [Symbol.dispose](): void

  /** `await using ex = ...`: shuts down and waits for pending work without blocking. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown()
  }

  /** Submits a streamed call (stream()). */
  protected abstract scheduleStream(fn: Task<AnyFn>, args: unknown[], options: SubmitOptions): TaskStream<unknown, unknown>

  /** Submits one call (`chunk` false) or a list of calls run as one task that returns their results. */
  protected abstract schedule(fn: Task<AnyFn>, args: unknown[], options: SubmitOptions, chunk: boolean): Future<unknown>
}
