// Who is told when a future settles, for both kinds of future (future.ts,
// loop/loop-future.ts): internal watchers (executors, wait, the loop
// bridge) first, at once, then the user's done callbacks, which each kind
// runs its own way. Each is told once; the lists are made on first use,
// since most futures never need them.

/** Declared as a method type so that a future holding its listeners stays covariant. */
export type Listener<F> = { bivariant(future: F): void }['bivariant']

/** @internal The lists behind both futures; not part of the API. */
export class Listeners<F> {
  #watchers: Array<Listener<F>> | undefined
  #callbacks: Array<Listener<F>> | undefined

  watch(fn: Listener<F>): void {
    ;(this.#watchers ??= []).push(fn)
  }

  unwatch(fn: Listener<F>): void {
    const index = this.#watchers?.indexOf(fn) ?? -1
    if (index >= 0) this.#watchers!.splice(index, 1)
  }

  addCallback(fn: Listener<F>): void {
    ;(this.#callbacks ??= []).push(fn)
  }

  /** Removes every registration of `fn`; returns how many. */
  removeCallback(fn: Listener<F>): number {
    const before = this.#callbacks?.length ?? 0
    this.#callbacks = this.#callbacks?.filter((callback) => callback !== fn)
    return before - (this.#callbacks?.length ?? 0)
  }

  /** Tells every listener, once: the watchers now, then each callback through `run`. */
  settle(future: F, run: (future: F, callback: Listener<F>) => void): void {
    const watchers = this.#watchers
    const callbacks = this.#callbacks
    this.#watchers = this.#callbacks = undefined
    if (watchers) for (const watcher of watchers) watcher(future)
    if (callbacks) for (const callback of callbacks) run(future, callback)
  }
}
