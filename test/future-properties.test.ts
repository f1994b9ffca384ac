// The Future state machine under any interleaving (fast-check): on a bare
// Future against a model, with fast-check's scheduler deciding the order of
// several actors and of the awaits, and on a real ThreadPoolExecutor's futures,
// whose tasks block on a shared flag so that cancel() races a real claim.

import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CancelledError, Future, fromModule, InvalidStateError, ThreadPoolExecutor, TimeoutError, type FutureState } from 'concurrent-futures'

const soakTasks = fromModule<typeof import('./soak/tasks.js')>(new URL('./soak/tasks.ts', import.meta.url))

type Op =
  | { op: 'cancel' }
  | { op: 'setRunning' }
  | { op: 'setResult'; value: number }
  | { op: 'setException'; message: string }
  | { op: 'callback'; throws: boolean }
  | { op: 'result0' }
  | { op: 'exception0' }
  | { op: 'await' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ op: 'cancel' as const }),
  fc.constant({ op: 'setRunning' as const }),
  fc.integer().map((value) => ({ op: 'setResult' as const, value })),
  fc.string({ maxLength: 5 }).map((message) => ({ op: 'setException' as const, message })),
  fc.boolean().map((throws) => ({ op: 'callback' as const, throws })),
  fc.constant({ op: 'result0' as const }),
  fc.constant({ op: 'exception0' as const }),
  fc.constant({ op: 'await' as const }),
)

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown }

function settle(read: () => unknown): Settled {
  try {
    return { ok: true, value: read() }
  } catch (error) {
    return { ok: false, error }
  }
}

/** A bare Future driven op by op, checked against a model of CPython's state machine after every op. */
class Checked {
  readonly future = new Future<number>()
  state: FutureState = 'PENDING'
  outcome: Settled | undefined
  /** Callback ids in the order they were added, and in the order they ran (with whether the future was done then). */
  readonly added: number[] = []
  readonly ran: Array<{ id: number; done: boolean }> = []
  readonly awaits: Array<Promise<Settled>> = []
  throwingRuns = 0

  get done(): boolean {
    return this.state === 'CANCELLED' || this.state === 'FINISHED'
  }

  apply(op: Op): void {
    const f = this.future
    switch (op.op) {
      case 'cancel': {
        const expected = this.state === 'PENDING' || this.state === 'CANCELLED'
        if (this.state === 'PENDING') this.state = 'CANCELLED'
        expect(f.cancel()).toBe(expected)
        break
      }
      case 'setRunning': {
        const got = settle(() => f.setRunningOrNotifyCancel())
        if (this.state === 'PENDING') {
          this.state = 'RUNNING'
          expect(got).toEqual({ ok: true, value: true })
        } else if (this.state === 'CANCELLED') expect(got).toEqual({ ok: true, value: false })
        else expect(!got.ok && got.error).toBeInstanceOf(InvalidStateError)
        break
      }
      case 'setResult':
      case 'setException': {
        const outcome: Settled = op.op === 'setResult' ? { ok: true, value: op.value } : { ok: false, error: new Error(op.message) }
        const got = settle(() => (outcome.ok ? f.setResult(outcome.value as number) : f.setException(outcome.error)))
        if (this.done) expect(!got.ok && got.error).toBeInstanceOf(InvalidStateError)
        else {
          expect(got.ok).toBe(true)
          this.state = 'FINISHED'
          this.outcome = outcome
        }
        break
      }
      case 'callback': {
        const id = this.added.length
        this.added.push(id)
        f.addDoneCallback((g) => {
          expect(g).toBe(f)
          this.ran.push({ id, done: g.done() && !g.running() })
          if (op.throws) {
            this.throwingRuns++
            throw new Error(`callback ${id} throws`)
          }
        })
        // Added to a done future, it runs at once.
        if (this.done) expect(this.ran.at(-1)?.id).toBe(id)
        break
      }
      case 'result0':
      case 'exception0':
        this.expectRead(op.op === 'result0' ? settle(() => f.result(0)) : settle(() => f.exception(0)), op.op === 'exception0')
        break
      case 'await':
        this.awaits.push(Promise.resolve(f).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error })))
        break
    }
    this.expectInvariants()
  }

  expectRead(got: Settled, exception: boolean): void {
    if (!this.done) expect(!got.ok && got.error).toBeInstanceOf(TimeoutError)
    else if (this.state === 'CANCELLED') expect(!got.ok && got.error).toBeInstanceOf(CancelledError)
    else if (exception) expect(got).toEqual({ ok: true, value: this.outcome!.ok ? undefined : this.outcome!.error })
    else expect(got).toStrictEqual(this.outcome)
  }

  expectInvariants(): void {
    const f = this.future
    expect(f.state).toBe(this.state)
    expect([f.done(), f.cancelled(), f.running()]).toEqual([this.done, this.state === 'CANCELLED', this.state === 'RUNNING'])
    // Callbacks: only once done, each once, in the order added, all of them once done.
    expect(this.ran.every((r) => r.done)).toBe(true)
    expect(this.ran.map((r) => r.id)).toEqual(this.done ? this.added : [])
  }

  /** Ends the future if nothing did, then checks every await agrees with result(0). */
  async finish(): Promise<void> {
    if (!this.done) this.apply({ op: 'setResult', value: -1 })
    const expected = settle(() => this.future.result(0))
    for (const awaited of await Promise.all(this.awaits)) {
      if (this.state === 'CANCELLED') expect(!awaited.ok && awaited.error).toBeInstanceOf(CancelledError)
      else expect(awaited).toStrictEqual(expected)
    }
  }
}

afterEach(() => void vi.restoreAllMocks())

describe('Future state machine (properties)', () => {
  it('any sequence of operations on a bare Future follows the model', async () => {
    const report = vi.spyOn(console, 'error').mockImplementation(() => {})
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
        report.mockClear()
        const checked = new Checked()
        for (const op of ops) checked.apply(op)
        await checked.finish()
        // A callback that throws is reported, and the later ones still run.
        expect(report).toHaveBeenCalledTimes(checked.throwingRuns)
      }),
      { numRuns: 300 },
    )
  })

  it('actors interleaved by the scheduler, with awaits resuming in between, see one consistent future', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), async (s, actors) => {
        const checked = new Checked()
        const seen: FutureState[] = []
        const actor = async (ops: Op[], index: number): Promise<void> => {
          for (const [step, op] of ops.entries()) {
            await s.schedule(Promise.resolve(`actor ${index} step ${step}`))
            checked.apply(op)
            seen.push(checked.future.state)
          }
        }
        // An awaiter resumes at a point the scheduler picks: the future it sees then must be done, with the outcome result(0) gives.
        const awaiter = s.schedule(Promise.resolve('awaiter')).then(async () => {
          const awaited = await Promise.resolve(checked.future).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error }))
          expect(checked.future.done()).toBe(true)
          if (checked.future.cancelled()) expect(!awaited.ok && (awaited as { error: unknown }).error).toBeInstanceOf(CancelledError)
          else expect(awaited).toStrictEqual(settle(() => checked.future.result(0)))
        })
        const running = Promise.all(actors.map(actor))
        await s.waitAll()
        await running
        await checked.finish()
        await awaiter
        expectLegalHistory(seen)
      }),
      { numRuns: 200 },
    )
  })
})

/** PENDING → RUNNING → FINISHED, or PENDING → CANCELLED / FINISHED; nothing leaves a final state or goes back. */
function expectLegalHistory(states: FutureState[]): void {
  const rank: Record<FutureState, number> = { PENDING: 0, RUNNING: 1, CANCELLED: 2, FINISHED: 2 }
  for (let i = 1; i < states.length; i++) {
    const [from, to] = [states[i - 1]!, states[i]!]
    expect(rank[to], `${from} → ${to} in ${states.join(' ')}`).toBeGreaterThanOrEqual(rank[from])
    if (rank[from] === 2) expect(to, `left ${from}`).toBe(from)
    if (from === 'RUNNING') expect(to, 'RUNNING → CANCELLED').not.toBe('CANCELLED')
  }
}

type PoolOp =
  | { op: 'cancel'; i: number }
  | { op: 'release'; i: number }
  | { op: 'waitStarted'; i: number }
  | { op: 'tick'; ms: number }
  | { op: 'callback'; i: number }
  | { op: 'result'; i: number; ms: number }
  | { op: 'exception0'; i: number }
  | { op: 'await'; i: number }
  | { op: 'userSet'; i: number; value: number }
  | { op: 'userSetException'; i: number }

const TASKS = 4

function poolOpArb(userSets: boolean): fc.Arbitrary<PoolOp> {
  const i = fc.integer({ min: 0, max: TASKS - 1 })
  const ops: Array<fc.Arbitrary<PoolOp>> = [
    i.map((i) => ({ op: 'cancel' as const, i })),
    i.map((i) => ({ op: 'release' as const, i })),
    i.map((i) => ({ op: 'waitStarted' as const, i })),
    fc.integer({ min: 0, max: 5 }).map((ms) => ({ op: 'tick' as const, ms })),
    i.map((i) => ({ op: 'callback' as const, i })),
    fc.tuple(i, fc.integer({ min: 0, max: 10 })).map(([i, ms]) => ({ op: 'result' as const, i, ms })),
    i.map((i) => ({ op: 'exception0' as const, i })),
    i.map((i) => ({ op: 'await' as const, i })),
  ]
  if (userSets) {
    ops.push(fc.tuple(i, fc.integer({ min: 1000, max: 2000 })).map(([i, value]) => ({ op: 'userSet' as const, i, value })))
    ops.push(i.map((i) => ({ op: 'userSetException' as const, i })))
  }
  return fc.oneof(...ops)
}

interface Tracked {
  future: Future<number>
  states: FutureState[]
  cancelTrue: boolean
  added: number
  ran: Array<{ id: number; done: boolean }>
  awaits: Array<Promise<Settled>>
  /** What a user's setResult/setException put in, which the late result of the task must not replace. */
  userSet?: Settled
}

/** How long a settled pool may take to shut down: far more than it needs. */
const SHUTDOWN_BOUND_MS = 3_000

/**
 * Plays `ops` on four tasks submitted to `ex`, a pool of one worker, then
 * checks every future. With `shutDown`, it shuts the pool down and checks that
 * too; otherwise the pool serves the next run (a worker under tsx takes a
 * while to start).
 */
async function playOnPool(ex: ThreadPoolExecutor, ops: PoolOp[], shutDown: boolean): Promise<void> {
  // Cell 2i: task i has started (set by the task); cell 2i+1: the test lets it return.
  const cells = new SharedArrayBuffer(8 * TASKS)
  const flags = new Int32Array(cells)
  const tracked: Tracked[] = Array.from({ length: TASKS }, (_, i) => ({
    future: ex.submit(soakTasks.blockOnFlag, cells, i, i * 10), states: [], cancelTrue: false, added: 0, ran: [], awaits: [],
  }))
  const observe = (): void => {
    for (const t of tracked) {
      t.states.push(t.future.state)
      if (t.future.done()) expect(t.future.running()).toBe(false)
    }
  }
  const release = (i: number): void => {
    Atomics.store(flags, 2 * i + 1, 1)
    Atomics.notify(flags, 2 * i + 1)
  }
  let shutdownResolved = !shutDown
  try {
    observe()
    for (const op of ops) {
      const t = 'i' in op ? tracked[op.i]! : undefined
      switch (op.op) {
        case 'cancel': {
          const before = t!.future.state
          const cancelled = t!.future.cancel()
          if (cancelled) t!.cancelTrue = true
          if (before === 'RUNNING' || before === 'FINISHED') expect(cancelled).toBe(false)
          expect(t!.future.cancelled()).toBe(cancelled)
          break
        }
        case 'release':
          release(op.i)
          break
        case 'waitStarted':
          Atomics.wait(flags, 2 * op.i, 0, 10)
          break
        case 'tick':
          await new Promise((resolve) => setTimeout(resolve, op.ms))
          break
        case 'callback': {
          const id = t!.added++
          const wasDone = t!.future.done()
          t!.future.addDoneCallback((g) => void t!.ran.push({ id, done: g.done() && !g.running() }))
          if (wasDone) expect(t!.ran.at(-1)?.id).toBe(id)
          break
        }
        case 'result': {
          const got = settle(() => t!.future.result(op.ms))
          if (!got.ok && got.error instanceof TimeoutError) break
          expect(t!.future.done()).toBe(true)
          expect(got).toStrictEqual(settle(() => t!.future.result(0)))
          break
        }
        case 'exception0': {
          const got = settle(() => t!.future.exception(0))
          if (!t!.future.done()) expect(!got.ok && got.error).toBeInstanceOf(TimeoutError)
          else if (t!.future.cancelled()) expect(!got.ok && got.error).toBeInstanceOf(CancelledError)
          else expect(got.ok).toBe(true)
          break
        }
        case 'await':
          t!.awaits.push(Promise.resolve(t!.future).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error })))
          break
        case 'userSet':
        case 'userSetException': {
          const wasDone = t!.future.done()
          const outcome: Settled = op.op === 'userSet' ? { ok: true, value: op.value } : { ok: false, error: new Error('set by the user') }
          const got = settle(() => (outcome.ok ? t!.future.setResult(outcome.value as number) : t!.future.setException(outcome.error)))
          if (wasDone) expect(!got.ok && got.error).toBeInstanceOf(InvalidStateError)
          else {
            expect(got.ok).toBe(true)
            t!.userSet = outcome
          }
          break
        }
      }
      observe()
    }
    for (let i = 0; i < TASKS; i++) release(i)
    const allDone = Promise.all(tracked.map((t) => Promise.resolve(t.future).catch(() => {})))
    expect(await within(allDone, SHUTDOWN_BOUND_MS), 'every future settles once its task may return').toBe(true)
    observe()
    if (shutDown) {
      shutdownResolved = await within(ex.shutdown(), SHUTDOWN_BOUND_MS)
      expect(shutdownResolved, `shutdown() resolves within ${SHUTDOWN_BOUND_MS} ms`).toBe(true)
    }
    for (const [i, t] of tracked.entries()) {
      const f = t.future
      const result = settle(() => f.result(0))
      const started = Atomics.load(flags, 2 * i) === 1
      expectLegalHistory(t.states)
      expect(f.done() && !f.running()).toBe(true)
      expect(f.cancelled(), 'cancelled() iff CancelledError').toBe(!result.ok && result.error instanceof CancelledError)
      if (t.cancelTrue) expect(f.cancelled() && !started, 'cancel() returned true: cancelled, and the task never ran').toBe(true)
      if (started) expect(f.cancelled(), 'a task that ran is not cancelled').toBe(false)
      if (t.userSet) expect(result, "a user's setResult/setException stands; the task's late result is dropped").toStrictEqual(t.userSet)
      else if (!f.cancelled()) expect(result).toStrictEqual({ ok: true, value: i * 10 })
      expect(t.ran.map((r) => r.id), 'each callback once, in order').toEqual(Array.from({ length: t.added }, (_, id) => id))
      expect(t.ran.every((r) => r.done), 'callbacks run only once done').toBe(true)
      for (const awaited of await Promise.all(t.awaits)) {
        if (f.cancelled()) expect(!awaited.ok && awaited.error).toBeInstanceOf(CancelledError)
        else expect(awaited, 'await agrees with result()').toStrictEqual(result)
      }
    }
  } finally {
    for (let i = 0; i < TASKS; i++) release(i)
    if (!shutdownResolved) await forceClose(ex)
  }
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([promise.then(() => true, () => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)))])
  clearTimeout(timer)
  return settled
}

/**
 * A pool whose shutdown() hung has already failed the property; its worker
 * threads must still go, or they would outlive the test. Reaching into the
 * pool's members is for this cleanup only.
 */
async function forceClose(ex: ThreadPoolExecutor): Promise<void> {
  void ex.shutdown({ cancelFutures: true })
  const members = (ex as unknown as { members: Array<{ thread: { terminate(): Promise<number> } }> }).members
  await Promise.all(members.map((m) => m.thread.terminate()))
}

describe("a pool's futures (properties, real ThreadPoolExecutor)", () => {
  it('cancel() racing the worker that claims the task: one final state, callbacks once and in order, await agrees with result()', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 })
    let closed = false
    try {
      await fc.assert(fc.asyncProperty(fc.array(poolOpArb(false), { minLength: 1, maxLength: 25 }), (ops) => playOnPool(ex, ops, false)), {
        numRuns: 40,
        interruptAfterTimeLimit: 40_000,
      })
      closed = await within(ex.shutdown(), SHUTDOWN_BOUND_MS)
      expect(closed, `shutdown() resolves within ${SHUTDOWN_BOUND_MS} ms`).toBe(true)
    } finally {
      if (!closed) await forceClose(ex)
    }
  }, 60_000)

  it("a user's setResult()/setException() on a pool's future: it stands, the late result is dropped, shutdown() still resolves", async () => {
    // A pool per run: a user's setResult() may wedge one.
    const play = (ops: PoolOp[]): Promise<void> => playOnPool(new ThreadPoolExecutor({ maxWorkers: 1 }), ops, true)
    await fc.assert(fc.asyncProperty(fc.array(poolOpArb(true), { minLength: 1, maxLength: 25 }), play), {
      numRuns: 10,
      // A pool that wedges costs a shutdown bound per shrinking step: shrink for a while, not for ever.
      interruptAfterTimeLimit: 15_000,
    })
  }, 60_000)
})
