import { ThreadPoolExecutor, fromModule, wait } from 'concurrent-futures'
const t = fromModule('/tmp/prof/noop.mjs')
const ex = new ThreadPoolExecutor({ maxWorkers: 2 })
ex.submit(t.identity, 1).result()
for (let r = 0; r < 3; r++) {
let s = performance.now()
const fs = []
for (let i = 0; i < 100000; i++) fs.push(ex.submit(t.identity, i))
const sub = performance.now() - s
await Promise.all(fs.slice(-1))
await fs.at(-1)
wait(fs)
console.log('100k submit ms', sub.toFixed(0), 'total', (performance.now() - s).toFixed(0))
}
let s = performance.now()
for (let i = 0; i < 2000; i++) ex.submit(t.identity, i).result()
console.log('rt us', (performance.now() - s) / 2000 * 1000)
await ex.shutdown()
