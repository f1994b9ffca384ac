// Lines of a large file parsed in a worker and streamed back as they are
// parsed, consumed with for await.  node --import tsx examples/stream-lines.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromModule, ThreadPoolExecutor } from 'concurrent-futures'

const dir = mkdtempSync(join(tmpdir(), 'cf-example-'))
const path = join(dir, 'sales.csv')
writeFileSync(path, Array.from({ length: 100_000 }, (_, i) => `${i},item-${i % 7},${(i % 100) / 4}\n`).join(''))

const tasks = fromModule<typeof import('./parse-lines.js')>(new URL('./parse-lines.ts', import.meta.url))
await using pool = new ThreadPoolExecutor({ maxWorkers: 1 })
const sales = pool.stream(tasks.parseSales, path)
let count = 0
let total = 0
for await (const sale of sales) {
  count++
  total += sale.amount
}
console.log(`${count} sales parsed in a worker thread and streamed back (of ${await sales.result} lines): amounts total ${total}`)
rmSync(dir, { recursive: true })
