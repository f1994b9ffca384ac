// Which fetched jobs a queue worker hands to its pool: in order, never more
// than its slots plus what it fetches ahead, and ahead only while tasks are
// short and the queue has a backlog. (Against Redis: queue-batches.test.ts.)

import { describe, expect, it } from 'vitest'
import { Future } from '../src/concurrent/future.js'
import { StartGate } from '../src/queue/start-gate.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function gate(slots: number): { gate: StartGate; ahead: number[] } {
  const ahead: number[] = []
  return { gate: new StartGate(slots, (n) => ahead.push(n)), ahead }
}

/** Enters `id` and records when it is admitted. */
function enter(g: StartGate, id: string, admitted: string[], chunk = false): Promise<void> {
  return g.enter(id, chunk).then(() => void admitted.push(id))
}

describe('StartGate', () => {
  it('admits its slots at once and the rest in order as jobs leave', async () => {
    const { gate: g } = gate(1)
    const admitted: string[] = []
    void enter(g, 'a', admitted)
    void enter(g, 'b', admitted)
    void enter(g, 'c', admitted)
    g.drained() // no backlog: nothing fetched ahead
    await tick()
    expect(admitted).toEqual(['a'])
    g.leave('a')
    await tick()
    expect(admitted).toEqual(['a', 'b'])
    g.leave('b')
    await tick()
    expect(admitted).toEqual(['a', 'b', 'c'])
  })

  it('fetches ahead only while tasks are short and the queue has a backlog; a drained queue stops it', async () => {
    const { gate: g, ahead } = gate(2)
    await g.enter('a', false)
    g.leave('a') // short, but the first job since the queue was found empty: no backlog
    expect(ahead).toEqual([])
    await g.enter('b', false) // the second in a row: a backlog
    expect(ahead).toEqual([6])
    g.drained()
    expect(ahead).toEqual([6, 0])
  })

  it('fetches nothing ahead of tasks that run long', async () => {
    const { gate: g, ahead } = gate(1)
    await g.enter('a', false)
    const until = performance.now() + 30
    while (performance.now() < until);
    g.leave('a')
    await g.enter('b', false)
    expect(ahead).toEqual([])
  })

  it('a chunk waits for a free slot, in order, and stops fetching ahead while any is here', async () => {
    const { gate: g, ahead } = gate(1)
    await g.enter('a', false)
    g.leave('a')
    await g.enter('b', false)
    expect(ahead).toEqual([3])
    const admitted: string[] = []
    void enter(g, 'single', admitted)
    void enter(g, 'chunk', admitted, true)
    expect(ahead).toEqual([3, 0])
    void enter(g, 'after', admitted) // behind the chunk: in order
    await tick()
    expect(admitted).toEqual(['single'])
    g.leave('b')
    g.leave('single')
    await tick()
    expect(admitted).toEqual(['single', 'chunk'])
    g.leave('chunk')
    await tick()
    expect(admitted).toEqual(['single', 'chunk', 'after'])
    expect(ahead).toEqual([3, 0, 3])
  })

  it('cancel(): a job in line is refused, one in the pool is cancelled there if its call has not started, else it started', async () => {
    const { gate: g } = gate(1)
    await g.enter('running', false)
    const started = new Future<unknown>()
    started.setRunningOrNotifyCancel()
    g.handed('running', [started])
    const refused = g.enter('waiting', false)
    expect(g.cancel('waiting', new Error('cancelled'))).toBe('withdrawn')
    await expect(refused).rejects.toThrow('cancelled')
    expect(g.cancel('running', new Error('cancelled'))).toBe('started')
    expect(g.cancel('nobody', new Error('cancelled'))).toBe('unknown')
    g.leave('running')
    await g.enter('handed', false)
    const call = new Future<unknown>()
    g.handed('handed', [call])
    expect(g.cancel('handed', new Error('cancelled'))).toBe('withdrawn')
    expect(call.cancelled()).toBe(true)
  })

  it('names a job once, once its call started; most short ones finish unseen', async () => {
    const { gate: g } = gate(2)
    await g.enter('a', false)
    await g.enter('b', false)
    const [a, b] = [new Future<unknown>(), new Future<unknown>()]
    g.handed('a', [a])
    g.handed('b', [b])
    expect(g.started()).toEqual([])
    a.setRunningOrNotifyCancel()
    expect(g.started()).toEqual(['a'])
    expect(g.started()).toEqual([])
    b.setResult(1)
    g.leave('b')
    expect(g.started()).toEqual([])
  })
})
