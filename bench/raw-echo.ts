// The message-passing floor: two bare worker threads echoing over MessagePorts.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'

const source = `
const { workerData } = require('node:worker_threads')
const { port, bell } = workerData
const word = new Int32Array(bell)
port.on('message', (m) => { port.postMessage(m); Atomics.add(word, 0, 1); Atomics.notify(word, 0) })
`

export class RawEcho {
  readonly #workers: Worker[] = []
  readonly ports: MessagePort[] = []
  readonly bell = new Int32Array(new SharedArrayBuffer(4))

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const { port1, port2 } = new MessageChannel()
      this.#workers.push(new Worker(source, { eval: true, workerData: { port: port2, bell: this.bell.buffer }, transferList: [port2] }))
      this.ports.push(port1)
    }
  }

  /** Sends n messages round-robin and resolves when every echo is back. */
  flood(n: number): Promise<void> {
    return new Promise((resolve) => {
      let left = n
      const onMessage = (): void => {
        if (--left === 0) {
          for (const port of this.ports) port.off('message', onMessage)
          resolve()
        }
      }
      for (const port of this.ports) port.on('message', onMessage)
      for (let i = 0; i < n; i++) this.ports[i % this.ports.length]!.postMessage(i)
    })
  }

  async pingPong(n: number): Promise<void> {
    const port = this.ports[0]!
    for (let i = 0; i < n; i++) {
      await new Promise((resolve) => {
        port.once('message', resolve)
        port.postMessage(i)
      })
    }
  }

  /** Blocking ping-pong: Atomics.wait on the bell, then receiveMessageOnPort. */
  blockingPingPong(n: number): void {
    const port = this.ports[0]!
    for (let i = 0; i < n; i++) {
      const seen = Atomics.load(this.bell, 0)
      port.postMessage(i)
      while (!receiveMessageOnPort(port)) Atomics.wait(this.bell, 0, seen, 1000)
    }
  }

  async close(): Promise<void> {
    for (const port of this.ports) port.close()
    await Promise.all(this.#workers.map((w) => w.terminate()))
  }
}
