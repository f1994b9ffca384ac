// The relay floor: the process pool's path (pool thread ─postMessage→ relay
// thread ─child.send→ child, and back by postMessage and a doorbell) with
// none of the pool's logic, so a round trip here is what the architecture
// costs before any of our code runs (see DECISIONS, "a relay thread owns the
// children").

import { once } from 'node:events'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'

const source = `
const { fork } = require('node:child_process')
const { workerData } = require('node:worker_threads')
const { port, bell, entry } = workerData
const word = new Int32Array(bell)
const child = fork(new URL(entry), { serialization: 'advanced' })
child.on('message', (m) => { port.postMessage(m); Atomics.add(word, 0, 1); Atomics.notify(word, 0) })
port.on('message', (m) => { if (m === null) { child.disconnect(); port.close() } else child.send(m) })
`

export class RelayedForkEcho {
  readonly #worker: Worker
  readonly #port: MessagePort
  readonly #bell = new Int32Array(new SharedArrayBuffer(4))

  constructor() {
    const { port1, port2 } = new MessageChannel()
    const entry = new URL('./echo-child.js', import.meta.url).href
    this.#worker = new Worker(source, { eval: true, workerData: { port: port2, bell: this.#bell.buffer, entry }, transferList: [port2] })
    this.#port = port1
  }

  async pingPong(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const echo = once(this.#port, 'message')
      this.#port.postMessage(i)
      await echo
    }
  }

  /** As a blocked result() waits: Atomics.wait on the doorbell, then receiveMessageOnPort. */
  blockingPingPong(n: number): void {
    for (let i = 0; i < n; i++) {
      const seen = Atomics.load(this.#bell, 0)
      this.#port.postMessage(i)
      while (!receiveMessageOnPort(this.#port)) Atomics.wait(this.#bell, 0, seen, 1000)
    }
  }

  async close(): Promise<void> {
    const exited = once(this.#worker, 'exit')
    this.#port.postMessage(null)
    this.#port.close()
    await exited
  }
}
