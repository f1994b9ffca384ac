// A progress bar over a CPU-heavy job: the task reports how far it got, the
// caller draws the bar while it waits.  node --import tsx examples/progress-bar.ts
import { ThreadPoolExecutor, type ProgressReporter } from 'concurrent-futures'

// Declaring `this` types the reports: the future is a Future<number, number>.
function primesBelow(this: ProgressReporter<number>, n: number): number {
  let count = 0
  for (let i = 2; i < n; i++) {
    let prime = true
    for (let d = 2; d * d <= i; d++) if (i % d === 0) { prime = false; break }
    if (prime) count++
    // Cheap enough to call often: reports coalesce to about one message a millisecond.
    if (i % 1000 === 0) this.reportProgress(i / n)
  }
  this.reportProgress(1)
  return count
}

await using pool = new ThreadPoolExecutor()
const primes = pool.submit(primesBelow, 2_000_000)
let drawn = 0
// The newest fraction each time the loop comes round; it ends when the task is done.
for await (const done of primes.progress()) {
  const filled = Math.round(done * 30)
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(30 - filled)}] ${Math.floor(done * 100)}%`)
  drawn++
}
process.stderr.write('\n')
console.log(`${await primes} primes below 2000000; the bar was drawn ${drawn > 1 ? 'as the task ran' : 'once'}`)
