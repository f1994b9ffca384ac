// A pool's timed actions: a task's timeout, an interrupted task's grace
// period. A blocked result() stops the event loop, so no timer fires while
// it waits: the wait asks wakeAt() when to wake, and the pool's drain runs
// what is due (runDue). Outside a wait, a timer does the same.

import { longTimeout } from '../concurrent/long-timer.js'

interface Deadline {
  /** performance.now() time it is due. */
  at: number
  action: () => void
  timer: NodeJS.Timeout | undefined
}

/** At most one timed action per key; a new one replaces it. */
export class Deadlines<K> {
  readonly #due = new Map<K, Deadline>()

  /** Runs `action` in `ms`, instead of what `key` had. */
  after(key: K, ms: number, action: () => void): void {
    this.cancel(key)
    const deadline: Deadline = { at: performance.now() + ms, action, timer: undefined }
    this.#due.set(key, deadline)
    this.#arm(key, deadline, ms)
  }

  cancel(key: K): void {
    const deadline = this.#due.get(key)
    if (!deadline) return
    clearTimeout(deadline.timer)
    this.#due.delete(key)
  }

  /** Runs every action due now. */
  runDue(): void {
    if (this.#due.size === 0) return
    const now = performance.now()
    for (const [key, deadline] of this.#due) {
      if (deadline.at > now) continue
      this.#due.delete(key)
      clearTimeout(deadline.timer)
      deadline.action()
    }
  }

  /** When the next action is due (performance.now() time; Infinity: none). */
  wakeAt(): number {
    let at = Infinity
    for (const deadline of this.#due.values()) at = Math.min(at, deadline.at)
    return at
  }

  #arm(key: K, deadline: Deadline, ms: number): void {
    // A timer counts from the loop's cached clock, so it can fire before
    // performance.now() reaches `at`; then it waits the rest.
    deadline.timer = longTimeout(() => {
      this.runDue()
      if (this.#due.get(key) === deadline) this.#arm(key, deadline, Math.ceil(deadline.at - performance.now()))
    }, ms)?.unref()
  }
}
