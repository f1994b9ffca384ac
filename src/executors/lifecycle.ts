// The life every executor shares, whatever runs its tasks: open; shut down
// (no new work, the work it holds still runs), then drained and closed; or
// broken (every future fails, no new work). It counts the work in flight, so
// a busy executor keeps the process alive and an idle one does not, and
// shutdown() resolves once that work is done and the executor closed.

import { blockUntil } from '../concurrent/blocking.js'
import { ExecutorShutdownError, type BrokenExecutor } from '../concurrent/errors.js'
import type { Future } from '../concurrent/future.js'
import { checkShutdownOptions, type ShutdownOptions } from './executor.js'

export interface LifecycleHooks {
  /** Keep the process alive (true) while there is work, or not. */
  setRef(ref: boolean): void
  /** Stops what runs the tasks; called once, when shut down and drained, or broken. */
  close(): Promise<void>
  /** What new work is refused with once broken (default: the Broken error itself). */
  refusal?(broken: BrokenExecutor): Error
}

export class Lifecycle {
  #live = 0
  #shutdown = false
  #broken: BrokenExecutor | undefined
  #closing: Promise<void> | undefined
  /** Settles once the executor, shut down, holds no more work. */
  #drained: Promise<void> | undefined
  #onDrained: (() => void) | undefined

  constructor(private readonly hooks: LifecycleHooks) {}

  /** Tasks submitted and not yet settled or cancelled. */
  get live(): number {
    return this.#live
  }

  get isShutdown(): boolean {
    return this.#shutdown
  }

  get broken(): BrokenExecutor | undefined {
    return this.#broken
  }

  /** Whether it is closing or closed (shut down and drained, or broken). */
  get closing(): boolean {
    return this.#closing !== undefined
  }

  /** Throws why new work is refused, if it is. */
  checkOpen(): void {
    if (this.#broken) throw this.hooks.refusal?.(this.#broken) ?? this.#broken
    if (this.#shutdown) throw new ExecutorShutdownError('cannot schedule new futures after shutdown')
  }

  /** One more task in flight: the first keeps the process alive. */
  started(): void {
    if (this.#live++ === 0) this.hooks.setRef(true)
  }

  /** One fewer: the last lets the process go, and ends a shutdown's wait. */
  finished(): void {
    if (--this.#live > 0) return
    this.hooks.setRef(false)
    this.#onDrained?.()
  }

  /** shutdown(): `stopping` refuses new work and, with `cancelFutures`, cancels what has not started. */
  shutdown(options: ShutdownOptions | undefined, stopping: (cancelFutures: boolean) => void): Promise<void> {
    const { wait = true, cancelFutures = false } = checkShutdownOptions(options)
    this.#shutdown = true
    stopping(cancelFutures)
    this.#drained ??= this.#live === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#onDrained = resolve))
    const closed = this.#drained.then(() => this.close())
    return wait ? closed : Promise.resolve()
  }

  /** `using`: blocks until the work in flight is done (after shutdown() was called). */
  waitDrained(what: string): void {
    blockUntil(() => this.#live === 0, Infinity, () => `disposing ${what}`)
  }

  /** Marks it broken (false if it already was); the caller fails the futures it holds. */
  break(broken: BrokenExecutor): boolean {
    if (this.#broken) return false
    this.#broken = broken
    return true
  }

  close(): Promise<void> {
    return (this.#closing ??= this.hooks.close())
  }
}

/** Ties a task's AbortSignal to its future: an abort cancels it, or interrupts it once it runs. */
export function followSignal(future: Future<unknown>, signal: AbortSignal, interrupt: (reason: unknown) => void): void {
  if (signal.aborted) return void future.cancel()
  const onAbort = (): void => interrupt(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  future.watch(() => signal.removeEventListener('abort', onAbort))
}

/** Refs or unrefs every handle that keeps an executor's threads alive. */
export function setRefs(ref: boolean, ...handles: Array<{ ref(): void; unref(): void } | undefined>): void {
  for (const handle of handles) {
    if (ref) handle?.ref()
    else handle?.unref()
  }
}
