// setTimeout for any delay a user may give. setTimeout fires a delay above
// 2^31-1 ms after 1 ms (with a TimeoutOverflowWarning), and Infinity too:
// every timer armed from a user's value goes through here instead.

import { MAX_TIMER_MS } from './validate.js'

/**
 * Calls `fn` after `ms` (>= 0). Infinity never arms a timer: it returns
 * undefined. A delay past MAX_TIMER_MS runs in equal legs of one timer,
 * re-armed with refresh(), so the handle returned stays the one to clear
 * and unref.
 */
export function longTimeout(fn: () => void, ms: number): NodeJS.Timeout | undefined {
  if (ms === Infinity) return undefined
  if (ms <= MAX_TIMER_MS) return setTimeout(fn, ms)
  let legs = Math.ceil(ms / MAX_TIMER_MS)
  // Past 2^53 legs (1e25 ms), ms / legs rounds to a hair over the limit: such a delay is never reached anyway.
  const timer: NodeJS.Timeout = setTimeout(() => (--legs > 0 ? timer.refresh() : fn()), Math.min(ms / legs, MAX_TIMER_MS))
  return timer
}
