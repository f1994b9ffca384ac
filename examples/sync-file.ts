// A file object with a synchronous API, the kind a legacy library hands out.
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs'

export class SyncFile {
  readonly #fd: number
  readonly openedIn = process.pid

  constructor(path: string, flags = 'w+') {
    this.#fd = openSync(path, flags)
  }

  write(text: string): number {
    return writeSync(this.#fd, text)
  }

  read(): string {
    const buffer = Buffer.alloc(fstatSync(this.#fd).size)
    readSync(this.#fd, buffer, 0, buffer.length, 0)
    return buffer.toString()
  }

  close(): void {
    closeSync(this.#fd)
  }
}
