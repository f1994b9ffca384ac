// npm run demo: the same CPU-heavy work inline and on a ThreadPoolExecutor,
// while a 10 ms ticker runs on the main thread.

import { fromModule, ThreadPoolExecutor } from '../src/index.js'
import { fib } from './tasks.js'

const tasks = fromModule<typeof import('./tasks.js')>(new URL('./tasks.js', import.meta.url))
const N = 38

async function ticksDuring(label: string, work: () => PromiseLike<number> | number): Promise<void> {
  let ticks = 0
  const ticker = setInterval(() => ticks++, 10)
  const start = performance.now()
  const result = await work()
  const ms = performance.now() - start
  clearInterval(ticker)
  console.log(`${label.padEnd(22)} fib(${N}) = ${result} in ${ms.toFixed(0)} ms; the 10 ms ticker ticked ${ticks} times (of ~${Math.floor(ms / 10)})`)
}

await ticksDuring('inline (main thread):', () => fib(N))
await using pool = new ThreadPoolExecutor({ maxWorkers: 2 })
await ticksDuring('ThreadPoolExecutor:', () => pool.submit(tasks.fib, N))
console.log('The event loop stays responsive while the pool computes. Next: npm run bench')
