// The IPC floor: bare child processes echoing over child_process.fork's channel.

import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'

export class RawForkEcho {
  readonly #children: ChildProcess[]

  constructor(count: number, serialization: 'advanced' | 'json') {
    const entry = new URL('./echo-child.js', import.meta.url)
    this.#children = Array.from({ length: count }, () => fork(entry, { serialization }))
  }

  /** Sends n messages round-robin and resolves when every echo is back. */
  flood(n: number): Promise<void> {
    return new Promise((resolve) => {
      let left = n
      const onMessage = (): void => {
        if (--left > 0) return
        for (const child of this.#children) child.off('message', onMessage)
        resolve()
      }
      for (const child of this.#children) child.on('message', onMessage)
      for (let i = 0; i < n; i++) this.#children[i % this.#children.length]!.send(i)
    })
  }

  async pingPong(n: number): Promise<void> {
    const child = this.#children[0]!
    for (let i = 0; i < n; i++) {
      const echo = once(child, 'message')
      child.send(i)
      await echo
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map((child) => {
      const exited = once(child, 'exit')
      child.disconnect()
      return exited
    }))
  }
}
