// A pool's timed actions (src/executors/deadlines.ts): run by their timer, or
// by runDue() from a blocked wait, once either way.

import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { Deadlines } from '../src/executors/deadlines.js'

describe('deadlines', () => {
  it('runDue() runs what is due, once, and wakeAt() says when the next is', async () => {
    const deadlines = new Deadlines<string>()
    const ran: string[] = []
    expect(deadlines.wakeAt()).toBe(Infinity)
    deadlines.after('soon', 0, () => ran.push('soon'))
    deadlines.after('later', 60_000, () => ran.push('later'))
    expect(deadlines.wakeAt()).toBeLessThanOrEqual(performance.now())
    deadlines.runDue()
    deadlines.runDue()
    expect(ran).toEqual(['soon'])
    expect(deadlines.wakeAt()).toBeGreaterThan(performance.now() + 50_000)
    deadlines.cancel('later')
    expect(deadlines.wakeAt()).toBe(Infinity)
    await delay(5)
    expect(ran).toEqual(['soon']) // the first one's timer does not run it again
  })

  it('a new action for a key replaces the old one; a cancelled one never runs', async () => {
    const deadlines = new Deadlines<number>()
    const ran: string[] = []
    deadlines.after(1, 5, () => ran.push('old'))
    deadlines.after(1, 10, () => ran.push('new'))
    deadlines.after(2, 5, () => ran.push('cancelled'))
    deadlines.cancel(2)
    await delay(60)
    expect(ran).toEqual(['new'])
  })

  it('an action may set the next one for its own key (a timeout, then its grace period)', async () => {
    const deadlines = new Deadlines<string>()
    const ran: string[] = []
    deadlines.after('job', 0, () => {
      ran.push('timeout')
      deadlines.after('job', 10, () => ran.push('grace'))
    })
    deadlines.runDue()
    expect(ran).toEqual(['timeout'])
    await delay(60)
    expect(ran).toEqual(['timeout', 'grace'])
    expect(deadlines.wakeAt()).toBe(Infinity)
  })
})
