// ThreadPoolExecutor: runs tasks on worker threads. Dispatch lives in
// worker-pool.ts; this file starts, feeds and stops the threads, and the
// worker side is workers/thread-worker.ts.

import { availableParallelism } from 'node:os'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads'
import { doorbellBuffer } from '../concurrent/blocking.js'
import { BrokenThreadPool, describeExit, WorkerLost, type WorkerExit } from '../concurrent/errors.js'
import type { FromWorker, ThreadWorkerData, ToWorker } from '../wire/protocol.js'
import { PoolMember } from './pool-member.js'
import { positiveInteger } from './options.js'
import { WorkerPool, type PoolOptions } from './worker-pool.js'

export interface ThreadPoolOptions extends PoolOptions {
  /** Workers are named `<prefix>_<index>` (see workerName() in 'concurrent-futures/worker'). */
  threadNamePrefix?: string
  /** Replace a worker after it has run this many tasks. */
  maxTasksPerWorker?: number
  /** V8 heap limits for each worker; a worker that exceeds them is replaced and its running task fails. */
  resourceLimits?: ResourceLimits
}

const entry = new URL('../../workers/thread-worker.js', import.meta.url)
let poolCounter = 0

export class ThreadPoolExecutor extends WorkerPool<ThreadMember> {
  readonly #prefix: string
  readonly #resourceLimits: ResourceLimits | undefined
  protected override readonly initFailedMessage = 'A thread initializer failed, the thread pool is not usable anymore'

  constructor(options: ThreadPoolOptions = {}) {
    super(
      options,
      positiveInteger(options.maxWorkers, 'maxWorkers') ?? availableParallelism(),
      positiveInteger(options.maxTasksPerWorker, 'maxTasksPerWorker'),
      false,
    )
    this.#prefix = options.threadNamePrefix ?? `ThreadPoolExecutor-${poolCounter++}`
    this.#resourceLimits = options.resourceLimits
  }

  protected override spawn(index: number): ThreadMember {
    const name = `${this.#prefix}_${index}`
    const { port1, port2 } = new MessageChannel()
    const workerData: ThreadWorkerData = {
      name,
      port: port2,
      doorbell: doorbellBuffer,
      slots: this.slots.buffer,
      initargs: this.initargs,
      ...(this.initializer ? { initializer: this.initializer } : {}),
    }
    const thread = new Worker(entry, {
      name,
      workerData,
      transferList: [port2],
      ...(this.#resourceLimits ? { resourceLimits: this.#resourceLimits } : {}),
    })
    const member = new ThreadMember(index, thread, port1)
    thread.on('error', (error) => (member.error = error))
    port1.on('message', (message: FromWorker) => this.receive(member, message))
    thread.on('exit', (code) => {
      this.#drainMember(member)
      this.lost(member, { exitCode: code }, undefined)
      this.released(member)
    })
    return member
  }

  protected override drainMessages(): void {
    for (const member of [...this.members]) this.#drainMember(member)
  }

  #drainMember(member: ThreadMember): void {
    for (let m = receiveMessageOnPort(member.port); m; m = receiveMessageOnPort(member.port)) {
      this.receive(member, m.message as FromWorker)
    }
  }

  protected override stop(member: ThreadMember): void {
    void member.thread.terminate()
  }

  protected override async stopAll(members: ThreadMember[]): Promise<void> {
    await Promise.all(members.map((m) => m.thread.terminate()))
  }

  protected override lostError(exit: WorkerExit, cause: unknown): Error {
    return new WorkerLost(`the worker thread running this task ${describeExit(exit)}; the pool replaced it`, exit, { cause })
  }

  protected override brokenError(message: string, cause: unknown): BrokenThreadPool {
    return new BrokenThreadPool(message, { cause })
  }
}

class ThreadMember extends PoolMember {
  constructor(
    index: number,
    readonly thread: Worker,
    readonly port: MessagePort,
  ) {
    super(index, 2)
  }

  override setRef(ref: boolean): void {
    if (ref) {
      this.thread.ref()
      this.port.ref()
    } else {
      this.thread.unref()
      this.port.unref()
    }
  }

  protected override send(message: ToWorker, transfer: TransferListItem[] = []): void {
    this.port.postMessage(message, transfer)
  }
}
