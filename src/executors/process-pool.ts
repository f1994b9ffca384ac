// ProcessPoolExecutor: runs tasks in child processes. Dispatch lives in
// worker-pool.ts; this file starts, feeds and stops the children.
//
// A child's IPC messages are delivered by an event loop, and a blocking
// result() stops this thread's loop. So the children belong to a relay
// thread (workers/process-relay.ts), whose loop always runs:
//
//   pool thread ──postMessage──▶ relay thread ──child.send──▶ child process
//        ▲                            │                      (workers/process-child.ts)
//        └── port + doorbell ◀────────┘◀──────process.send──────┘
//
// The children share no memory with the pool, so the relay, which does,
// claims each task as it hands it to a free child.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type TransferListItem } from 'node:worker_threads'
import { doorbellBuffer } from '../concurrent/blocking.js'
import { BrokenProcessPool, describeExit, WorkerLost, type WorkerExit } from '../concurrent/errors.js'
import { checkOptions, environment, oneOf, positiveInteger, strings, type Schema } from '../concurrent/validate.js'
import type { FromRelay, RelayData, ToRelay, ToWorker } from '../wire/protocol.js'
import { inheritedFlags } from './exec-argv.js'
import { setRefs } from './lifecycle.js'
import { PoolMember } from './pool-member.js'
import { notForProcesses, poolSchema, type PoolOptions } from './pool-options.js'
import { WorkerPool } from './worker-pool.js'

/** Options of ProcessPoolExecutor: the pool options plus how children start and what happens when one dies. */
export interface ProcessPoolOptions extends PoolOptions {
  /** Replace a child after it has run this many tasks. */
  maxTasksPerChild?: number
  /**
   * Node flags for the children, as given (default: this process's execArgv,
   * less what cannot apply to a child: see README, "Node flags").
   */
  execArgv?: string[]
  /** The children's environment (default: this process's). */
  env?: Record<string, string | undefined>
  /** How values cross (default 'advanced': structured clone; 'json' is faster for plain data). */
  serialization?: 'advanced' | 'json'
  /**
   * What a child that dies abruptly does to the pool: 'break' (default, as in
   * Python) fails every pending and running future with BrokenProcessPool and
   * refuses new work; 'replace' fails only the futures that child held and
   * starts another.
   */
  onChildExit?: 'break' | 'replace'
}

const processSchema: Schema<ProcessPoolOptions> = {
  ...poolSchema,
  maxTasksPerChild: positiveInteger,
  execArgv: strings,
  env: environment,
  serialization: oneOf('advanced', 'json'),
  onChildExit: oneOf('break', 'replace'),
}

const relayEntry = new URL('../../workers/process-relay.js', import.meta.url)
const childEntry = new URL('../../workers/process-child.js', import.meta.url)
let poolCounter = 0

/**
 * Runs tasks in a pool of child processes, with the same API and Futures as the thread pool.
 *
 * @example
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 4, maxTasksPerChild: 100 })
 * const n = await pool.submit(tasks.fib, 30)
 */
export class ProcessPoolExecutor extends WorkerPool<ProcessMember> {
  readonly #prefix = `ProcessPoolExecutor-${poolCounter++}`
  readonly #fork: Omit<RelayData['fork'], 'env'>
  readonly #env: Record<string, string | undefined> | undefined
  readonly #replace: boolean
  readonly #children = new Map<number, ProcessMember>()
  #nextChild = 0
  #relay: { thread: Worker; port: MessagePort; gone: boolean } | undefined
  #onClosed: (() => void) | undefined
  protected override readonly initFailedMessage = 'A process in the process pool failed its initializer, the process pool is not usable anymore'
  protected override readonly kind = { worker: 'child process', pool: 'process pool' }

  constructor(options: ProcessPoolOptions = {}) {
    const checked = checkOptions(options, processSchema, 'ProcessPoolExecutor', notForProcesses)
    if (checked.serialization === 'json' && checked.initargs) jsonInitargs(checked.initargs)
    super(checked, { maxTasksPerWorker: checked.maxTasksPerChild, interruptAlone: true })
    const { serialization = 'advanced', onChildExit = 'break' } = checked
    this.#fork = { execArgv: checked.execArgv ?? inheritedFlags('process'), serialization }
    this.#env = checked.env
    this.#replace = onChildExit === 'replace'
  }

  protected override spawn(index: number): ProcessMember {
    const relay = this.#startRelay()
    const id = this.#nextChild++
    const member = new ProcessMember(index, id, relay.port, this.#fork.serialization)
    this.#children.set(id, member)
    const init = {
      name: `${this.#prefix}_${index}`,
      slotCount: this.slots.states.length,
      serialization: this.#fork.serialization,
      initargs: this.initargs,
      ...(this.initializer ? { initializer: this.initializer } : {}),
    }
    relay.port.postMessage({ spawn: id, init } satisfies ToRelay)
    return member
  }

  #startRelay(): { thread: Worker; port: MessagePort } {
    if (this.#relay) return this.#relay
    const { port1, port2 } = new MessageChannel()
    // The children get this process's environment as it is now, unless told otherwise.
    const fork = { ...this.#fork, env: this.#env ?? { ...process.env } }
    const workerData: RelayData = { port: port2, doorbell: doorbellBuffer, slots: this.slots.buffer, entry: childEntry.href, fork }
    // It runs only this library's code, so none of the user's flags or
    // NODE_OPTIONS preloads (an empty env): nothing of theirs can stop it.
    const thread = new Worker(relayEntry, { name: `${this.#prefix}_relay`, workerData, transferList: [port2], execArgv: [], env: {} })
    const relay = { thread, port: port1, gone: false }
    port1.on('message', (message: FromRelay) => this.#route(message))
    let error: unknown
    thread.on('error', (e) => (error = e))
    // The relay only ends when the pool closes it; if it dies, so does every child's channel.
    thread.on('exit', () => {
      relay.gone = true
      this.#onClosed?.()
      this.break('The relay thread of the process pool stopped, the process pool is not usable anymore', error)
    })
    this.#relay = relay
    return relay
  }

  #route(message: FromRelay): void {
    if ('closed' in message) return this.#onClosed?.()
    if ('from' in message) {
      const member = this.#children.get(message.from)
      if (member) this.receive(member, message.message)
      return
    }
    const member = this.#children.get(message.exit)
    if (!member) return
    this.#children.delete(message.exit)
    this.exited(member, { exitCode: message.code ?? undefined, signal: message.signal ?? undefined }, undefined)
    this.released(member)
  }

  protected override drainMessages(): void {
    const port = this.#relay?.port
    if (!port) return
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) this.#route(m.message as FromRelay)
  }

  protected override exited(member: ProcessMember, exit: WorkerExit, cause: unknown): void {
    if (this.diesAtStart(member, exit) || member.retiring || member.exited || this.#replace) return this.lost(member, exit, cause)
    const lost = new WorkerLost(`the child process ${member.index} ${describeExit(exit)}`, exit, { cause })
    this.break(
      'A child process terminated abruptly, the process pool is not usable anymore',
      lost,
      'A process in the process pool was terminated abruptly while the future was running or pending.',
    )
  }

  protected override stop(member: ProcessMember, kill: boolean | 'SIGTERM'): void {
    this.#relay?.port.postMessage({ stop: member.id, kill } satisfies ToRelay)
  }

  protected override async stopAll(): Promise<void> {
    const relay = this.#relay
    if (!relay) return
    relay.port.ref() // an idle pool's relay is unref'd, but a shutdown() awaited must not end the process early
    // A relay that died (its 'exit' resolves this too) has nothing left to close.
    if (!relay.gone) {
      await new Promise<void>((resolve) => {
        this.#onClosed = resolve
        relay.port.postMessage({ close: this.graceMs } satisfies ToRelay)
      })
    }
    relay.thread.removeAllListeners('exit')
    await relay.thread.terminate()
    relay.port.close()
  }

  protected override lostError(exit: WorkerExit, cause: unknown): Error {
    return new WorkerLost(`the child process running this task ${describeExit(exit)}; the pool replaced it`, exit, { cause })
  }

  protected override brokenError(message: string, cause: unknown): BrokenProcessPool {
    return new BrokenProcessPool(message, { cause })
  }

  protected override setRef(ref: boolean): void {
    setRefs(ref, this.#relay?.thread, this.#relay?.port)
  }
}

/** A child, as the pool sees it: messages to it go through the relay. */
class ProcessMember extends PoolMember {
  constructor(
    index: number,
    readonly id: number,
    readonly relay: MessagePort,
    serialization: 'advanced' | 'json',
  ) {
    super(index, serialization)
  }

  protected override send(message: ToWorker, transfer: TransferListItem[] = []): void {
    this.relay.postMessage({ to: this.id, message } satisfies ToRelay, transfer)
  }
}

/** With serialization 'json', the initargs travel to each child as JSON: a value JSON cannot write is refused now. */
function jsonInitargs(initargs: readonly unknown[]): void {
  try {
    JSON.stringify(initargs)
  } catch (error) {
    throw new TypeError(`ProcessPoolExecutor option initargs cannot be sent as JSON (serialization: 'json'): ${(error as Error).message}`, { cause: error })
  }
}
