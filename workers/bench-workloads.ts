// The built-in workloads of `concurrent-futures bench`, loaded by the pool's
// workers like any task module.

import { closeSync, existsSync, openSync, readSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

/** CPU: naive recursive Fibonacci. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

/** CPU in JavaScript: FNV-1a over `kb` KiB, 16 passes. */
export function hash(kb: number): number {
  const data = new Uint8Array(kb * 1024).map((_, i) => (i * 31) & 0xff)
  let h = 0x811c9dc5
  for (let pass = 0; pass < 16; pass++) {
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193)
  }
  return h >>> 0
}

/** Native CPU: zlib.gzipSync of `kb` KiB of text; returns the compressed size. */
export function gzip(kb: number): number {
  const line = 'the quick brown fox jumps over the lazy dog 0123456789\n'
  return gzipSync(Buffer.from(line.repeat(Math.ceil((kb * 1024) / line.length)))).length
}

const MiB = 1024 * 1024
// One buffer per worker: a fresh 1 MiB buffer per read measured the allocator, not the I/O (pools of
// one size ran 2-4x apart from run to run, as each thread's malloc arena happened to trim or not).
const buffer = Buffer.alloc(MiB)

/** I/O: `reads` synchronous reads (open, read, close) of a 1 MiB file. */
export function fs(reads: number): number {
  const path = join(tmpdir(), 'concurrent-futures-bench.bin')
  if (!existsSync(path)) writeFileSync(path, Buffer.alloc(MiB, 7))
  let total = 0
  for (let i = 0; i < reads; i++) {
    const fd = openSync(path, 'r')
    try {
      for (let n; (n = readSync(fd, buffer, 0, MiB, null)) > 0; ) total += n
    } finally {
      closeSync(fd)
    }
  }
  return total
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** A blocking wait of `ms` that uses no CPU: where more workers than cores pay off. */
export function sleep(ms: number): number {
  Atomics.wait(sleeper, 0, 0, ms)
  return ms
}
