// The queue worker's memory of interrupt requests for jobs it has not started:
// bounded in time as in size (the size bound is tested in queue.test.ts against Redis).

import { afterEach, describe, expect, it, vi } from 'vitest'
import { RecentInterrupts } from '../src/queue/interrupts.js'

describe('RecentInterrupts', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('forgets a request after 60 s, and keeps a newer one', () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const memory = new RecentInterrupts()
    memory.remember('old', 'stop')
    vi.advanceTimersByTime(59_000)
    memory.remember('new', 'stop too')
    expect(memory.get('old')).toBe('stop')
    vi.advanceTimersByTime(2_000)
    expect(memory.get('old')).toBeUndefined()
    expect(memory.get('new')).toBe('stop too')
  })

  it('takes only { jobId, reason } JSON with a sensible id, and cuts a long reason', () => {
    const memory = new RecentInterrupts()
    for (const bad of ['', 'nope', 'null', '42', '{"jobId":""}', '{"jobId":7}', JSON.stringify({ jobId: 'x'.repeat(513) })]) {
      expect(memory.hear(bad)).toBeUndefined()
    }
    expect(memory.hear(JSON.stringify({ jobId: 'j', reason: 'r'.repeat(2000) }))?.reason).toHaveLength(1001)
  })
})
