// The soak's tasks: each does one thing a user's task might do, good or bad.
// Every task first notes which worker runs it ("S <id> <pid>:<threadId>") and,
// if it gets that far, that its body completed ("F <id>"), in the log file
// named by SOAK_LOG, so the judge knows what really ran where (appends this
// small are atomic on Linux, from any thread or process).

import { appendFileSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import { checkInterrupt, taskSignal } from 'concurrent-futures/worker'

const log = process.env.SOAK_LOG
const where = `${process.pid}:${threadId}`

function note(line: string): void {
  if (log) appendFileSync(log, `${line}\n`)
}

function begin(id: number): void {
  note(`S ${id} ${where}`)
}

function end(id: number): void {
  note(`F ${id}`)
}

function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

export async function value(id: number, how: 'sync' | 'async' | 'block', ms: number, v: unknown): Promise<unknown> {
  begin(id)
  if (how === 'async') await new Promise((resolve) => setTimeout(resolve, ms))
  else if (how === 'block') blockFor(ms)
  end(id)
  return v
}

/** The names of Object.prototype members a decoder must not look up through the prototype chain. */
export const HOSTILE_NAMES = ['toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'constructor'] as const

export type ThrowKind =
  | 'error' | 'range' | 'custom' | 'aggregate' | 'bigint-prop'
  | `hostile-name:${(typeof HOSTILE_NAMES)[number]}` | 'hostile-cause'
  | 'getter:message' | 'getter:name' | 'getter:stack' | 'getter:cause' | 'getter:prop'
  | 'string' | 'number' | 'object' | 'object-with-function'

/** Throws the kind of thing `kind` names, carrying `message` wherever it can. */
export function fail(id: number, kind: ThrowKind, message: string): never {
  begin(id)
  end(id)
  throw thrown(kind, message)
}

function thrown(kind: ThrowKind, message: string): unknown {
  if (kind.startsWith('hostile-name:')) return Object.assign(new Error(message), { name: kind.slice('hostile-name:'.length) })
  if (kind.startsWith('getter:')) return withThrowingGetter(new Error(message), kind.slice('getter:'.length))
  switch (kind) {
    case 'error': return new Error(message)
    case 'range': return new RangeError(message)
    case 'custom': {
      class SoakError extends Error {
        override name = 'SoakError'
      }
      return Object.assign(new SoakError(message, { cause: new TypeError('root') }), { code: 'E_SOAK', detail: { n: 1 } })
    }
    case 'aggregate': return new AggregateError([new Error('first'), new TypeError('second')], message)
    case 'bigint-prop': return Object.assign(new RangeError(message), { size: 10n ** 20n })
    case 'hostile-cause': return new Error(message, { cause: Object.assign(new Error('inner'), { name: 'toString' }) })
    case 'string': return message
    case 'number': return 42
    case 'object': return { code: message }
    case 'object-with-function': return { code: message, fn: () => 1 }
    default: throw new Error(`unknown throw kind ${kind as string}`)
  }
}

function withThrowingGetter(error: Error, key: string): Error {
  const get = (): never => {
    throw new Error(`getter ${key} throws`)
  }
  Object.defineProperty(error, key === 'prop' ? 'detail' : key, { get, enumerable: key === 'prop', configurable: true })
  return error
}

export function exit(id: number, code: number): never {
  begin(id)
  process.exit(code)
}

/** Throws from a timer while the task still awaits: outside any task, which ends the worker. */
export async function throwOutside(id: number, ms: number): Promise<void> {
  begin(id)
  setTimeout(() => {
    throw new Error(`thrown outside task ${id}`)
  }, ms)
  await new Promise((resolve) => setTimeout(resolve, 30_000).unref())
}

/** Allocates until the worker runs out of memory (threads under resourceLimits). */
export function allocate(id: number): never {
  begin(id)
  const hog: number[][] = []
  for (;;) hog.push(new Array(1e5).fill(id))
}

/**
 * Runs until interrupted: 'check' polls checkInterrupt(), 'signal' awaits the
 * task's AbortSignal and throws its reason, 'ignore' never stops (the pool
 * kills its worker after the grace period). Bounded, so nothing spins forever
 * if the pool never interrupts it: it then returns, which the judge flags.
 */
export async function hang(id: number, how: 'check' | 'signal' | 'ignore'): Promise<string> {
  begin(id)
  const deadline = Date.now() + 60_000
  if (how === 'signal') {
    const signal = taskSignal()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000)
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
    })
    signal.throwIfAborted()
  } else {
    while (Date.now() < deadline) {
      if (how === 'check') checkInterrupt()
      blockFor(1)
    }
  }
  return 'never interrupted'
}

/**
 * For the Future property with a real pool: marks `ran` (cell 2i), then
 * waits (bounded) until the test raises the flag in cell 2i+1.
 */
export function blockOnFlag(cells: SharedArrayBuffer, i: number, v: number): number {
  const flags = new Int32Array(cells)
  Atomics.store(flags, 2 * i, 1)
  Atomics.notify(flags, 2 * i)
  Atomics.wait(flags, 2 * i + 1, 0, 10_000)
  return v
}

/** A remote object (remote()): its calls run in order on one worker, so call n returns n. */
export class Tally {
  count = 0

  add(id: number): number {
    begin(id)
    end(id)
    return ++this.count
  }
}
