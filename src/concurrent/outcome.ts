// How a future ended, and the promise both kinds of future hand to `await`.

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

/**
 * A promise that settles with `outcome()` once `watch` reports the future
 * done. Futures create it on first `then`, so a failure nobody awaits is not
 * an unhandled rejection.
 */
export function outcomePromise<T>(watch: (done: () => void) => void, outcome: () => Outcome<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    watch(() => {
      const result = outcome()
      if (result.ok) resolve(result.value)
      else reject(result.error)
    })
  })
}
