// A CPU-heavy function off the event loop, awaited.  node --import tsx examples/offload-cpu.ts
import { ThreadPoolExecutor } from 'concurrent-futures'
import { runInExecutor } from 'concurrent-futures/loop'

function primesBelow(n: number): number {
  let count = 0
  for (let i = 2; i < n; i++) {
    let prime = true
    for (let d = 2; d * d <= i; d++) if (i % d === 0) { prime = false; break }
    if (prime) count++
  }
  return count
}

await using pool = new ThreadPoolExecutor()
console.log(`${await runInExecutor(pool, primesBelow, 200_000)} primes below 200000, counted on a worker thread`)
