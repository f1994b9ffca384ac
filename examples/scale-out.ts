// The same Futures, run by workers on other machines. Start a Redis and, on each machine, a worker:
//   npx concurrent-futures worker --queue fib --tasks examples/scale-out-tasks.ts --redis redis://redis-host:6379
// then:  REDIS_URL=redis://redis-host:6379 node --import tsx examples/scale-out.ts
import { asCompleted, fromModule } from 'concurrent-futures'
import { QueueExecutor } from 'concurrent-futures/queue'

const tasks = fromModule<typeof import('./scale-out-tasks.js')>(new URL('./scale-out-tasks.ts', import.meta.url))

await using pool = new QueueExecutor({ connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', queue: process.env.QUEUE ?? 'fib' })
const futures = [20, 25, 30].map((n) => pool.submit(tasks.fib, n))
const first = asCompleted(futures, { timeout: 30_000 }).next().value!
console.log(`first done: ${first.result()}; all: ${futures.map((f) => f.result()).join(', ')}`)
