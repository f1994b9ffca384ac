// ThreadPoolExecutor: runs tasks on worker threads. Dispatch lives in
// worker-pool.ts; this file starts, feeds and stops the threads, and the
// worker side is workers/thread-worker.ts. A watch thread
// (workers/thread-watch.ts) notices workers that end without a word while
// this thread is blocked.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads'
import { doorbellBuffer } from '../concurrent/blocking.js'
import { BrokenThreadPool, describeExit, WorkerLost, type WorkerExit } from '../concurrent/errors.js'
import { atLeast, checkOptions, nested, positiveInteger, string, strings, type Schema } from '../concurrent/validate.js'
import type { FromWatch, FromWorker, ThreadWatchData, ThreadWorkerData, ToWatch, ToWorker } from '../wire/protocol.js'
import { inheritedFlags } from './exec-argv.js'
import { setRefs } from './lifecycle.js'
import { PoolMember } from './pool-member.js'
import { notForThreads, poolSchema, type PoolOptions } from './pool-options.js'
import { WorkerPool } from './worker-pool.js'

/** Options of ThreadPoolExecutor: the pool options plus thread names, `maxTasksPerWorker`, `resourceLimits` and `execArgv`. */
export interface ThreadPoolOptions extends PoolOptions {
  /** Workers are named `<prefix>_<index>` (see workerName() in 'concurrent-futures/worker'). */
  threadNamePrefix?: string
  /** Replace a worker after it has run this many tasks. */
  maxTasksPerWorker?: number
  /**
   * V8 heap limits for each worker; a worker that exceeds them is replaced and
   * its running task fails. Below stackSizeMb 0.5 or maxOldGenerationSizeMb 8
   * no worker can start (too small a stack aborts the whole process), so
   * smaller values are refused.
   */
  resourceLimits?: ResourceLimits
  /**
   * Node flags for the workers, as given (default: this process's execArgv,
   * less what cannot apply to a worker thread: see README, "Node flags").
   */
  execArgv?: string[]
}

const threadSchema: Schema<ThreadPoolOptions> = {
  ...poolSchema,
  threadNamePrefix: string,
  maxTasksPerWorker: positiveInteger,
  execArgv: strings,
  // Minimums measured on Node 20: a worker's bootstrap overflows a stack of
  // 0.25 MB and takes the host down with it; it runs out of a 4-6 MB old
  // generation. Each is set at about twice what failed.
  resourceLimits: nested<ResourceLimits>({
    maxOldGenerationSizeMb: atLeast(8, ' (a worker needs about 6 MB to start)'),
    maxYoungGenerationSizeMb: atLeast(0),
    codeRangeSizeMb: atLeast(0),
    stackSizeMb: atLeast(0.5, ' (a smaller stack overflows as the worker starts, which aborts this process)'),
  }),
}

const entry = new URL('../../workers/thread-worker.js', import.meta.url)
const watchEntry = new URL('../../workers/thread-watch.js', import.meta.url)
let poolCounter = 0

/**
 * Runs tasks on a pool of worker threads (Python's ThreadPoolExecutor, but in parallel).
 *
 * @example
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 })
 * const n = await pool.submit(tasks.fib, 30)
 */
export class ThreadPoolExecutor extends WorkerPool<ThreadMember> {
  readonly #prefix: string
  readonly #resourceLimits: ResourceLimits | undefined
  /** undefined: Node's own inheritance, when it holds nothing a worker cannot take. */
  readonly #execArgv: string[] | undefined
  readonly #byId = new Map<number, ThreadMember>()
  /** Workers the watch thread saw end, whose 'exit' event has not run yet. */
  readonly #closed = new Set<number>()
  #nextId = 0
  #watch: { thread: Worker; port: MessagePort } | undefined
  protected override readonly initFailedMessage = 'A thread initializer failed, the thread pool is not usable anymore'
  protected override readonly kind = { worker: 'worker thread', pool: 'thread pool' }

  constructor(options: ThreadPoolOptions = {}) {
    const checked = checkOptions(options, threadSchema, 'ThreadPoolExecutor', notForThreads)
    super(checked, { maxTasksPerWorker: checked.maxTasksPerWorker, interruptAlone: false })
    this.#prefix = checked.threadNamePrefix ?? `ThreadPoolExecutor-${poolCounter++}`
    this.#resourceLimits = checked.resourceLimits
    const inherited = inheritedFlags('thread')
    this.#execArgv = checked.execArgv ?? (inherited.length === process.execArgv.length ? undefined : inherited)
  }

  protected override spawn(index: number): ThreadMember {
    const name = `${this.#prefix}_${index}`
    const { port1, port2 } = new MessageChannel()
    const life = new MessageChannel()
    const id = this.#nextId++
    this.#startWatch().port.postMessage({ watch: id, life: life.port2 } satisfies ToWatch, [life.port2])
    const workerData: ThreadWorkerData = {
      name,
      port: port2,
      life: life.port1,
      doorbell: doorbellBuffer,
      slots: this.slots.buffer,
      initargs: this.initargs,
      ...(this.initializer ? { initializer: this.initializer } : {}),
    }
    const thread = new Worker(entry, {
      name,
      workerData,
      transferList: [port2, life.port1],
      ...(this.#resourceLimits ? { resourceLimits: this.#resourceLimits } : {}),
      ...(this.#execArgv ? { execArgv: this.#execArgv } : {}),
    })
    const member = new ThreadMember(index, thread, port1)
    this.#byId.set(id, member)
    thread.on('error', (error) => (member.error = error))
    port1.on('message', (message: FromWorker) => this.receive(member, message))
    thread.on('exit', (code) => {
      this.#byId.delete(id)
      this.#closed.delete(id)
      this.#drainMember(member)
      this.lost(member, { exitCode: code }, undefined)
      this.released(member)
    })
    return member
  }

  #startWatch(): { thread: Worker; port: MessagePort } {
    if (this.#watch) return this.#watch
    const { port1, port2 } = new MessageChannel()
    const workerData: ThreadWatchData = { port: port2, doorbell: doorbellBuffer }
    // It runs only this library's code, so none of the user's flags or
    // NODE_OPTIONS preloads (an empty env): nothing of theirs can stop it.
    const thread = new Worker(watchEntry, { name: `${this.#prefix}_watch`, workerData, transferList: [port2], execArgv: [], env: {} })
    // It serves blocked waits only, so it never keeps the process alive. What
    // it reports is acted on only by drainMessages(): when the event loop runs,
    // the workers' own 'exit' events say more (the exit code).
    port1.on('message', this.#noteClosed)
    thread.on('error', (error) => this.break('The watch thread of the thread pool failed, the thread pool is not usable anymore', error))
    thread.unref()
    port1.unref()
    this.#watch = { thread, port: port1 }
    return this.#watch
  }

  protected override drainMessages(): void {
    for (const member of [...this.members]) this.#drainMember(member)
    const watch = this.#watch?.port
    if (!watch) return
    for (let m = receiveMessageOnPort(watch); m; m = receiveMessageOnPort(watch)) this.#noteClosed(m.message as FromWatch)
    for (const id of this.#closed) {
      this.#closed.delete(id)
      // The thread is gone; its 'exit' event will free its slots once the event loop runs.
      const member = this.#byId.get(id)!
      this.lost(member, { vanished: true }, member.error)
    }
  }

  /** Remembers a worker seen ending, unless its 'exit' event already ran (then there is nothing to do). */
  readonly #noteClosed = ({ closed }: FromWatch): void => {
    if (this.#byId.has(closed)) this.#closed.add(closed)
  }

  #drainMember(member: ThreadMember): void {
    for (let m = receiveMessageOnPort(member.port); m; m = receiveMessageOnPort(member.port)) {
      this.receive(member, m.message as FromWorker)
    }
  }

  /**
   * A thread's one way to stop is terminate(), whatever `kill` says: the pool
   * stops a worker without `kill` only once it holds no work (it retires an
   * idle worker), so no task is cut short.
   */
  protected override stop(member: ThreadMember, _kill: boolean | 'SIGTERM'): void {
    void member.thread.terminate()
  }

  protected override async stopAll(members: readonly ThreadMember[]): Promise<void> {
    await Promise.all([...members.map((m) => m.thread.terminate()), this.#watch?.thread.terminate()])
  }

  protected override lostError(exit: WorkerExit, cause: unknown): Error {
    return new WorkerLost(`the worker thread running this task ${describeExit(exit)}; the pool replaced it`, exit, { cause })
  }

  protected override brokenError(message: string, cause: unknown): BrokenThreadPool {
    return new BrokenThreadPool(message, { cause })
  }

  protected override setRef(ref: boolean): void {
    for (const member of this.members) setRefs(ref, member.thread, member.port)
  }
}

class ThreadMember extends PoolMember {
  constructor(
    index: number,
    readonly thread: Worker,
    readonly port: MessagePort,
  ) {
    super(index, 'clone')
  }

  protected override send(message: ToWorker, transfer: TransferListItem[] = []): void {
    this.port.postMessage(message, transfer)
  }
}
