// The runtime smoke suite: what a user of each pool does first, on whatever
// runtime runs this file (Node under tsx, Bun, Deno), against the packed
// package. .ci/run runs it; one line per check, then "<runtime>: N passed, M failed".
import { gunzipSync } from 'node:zlib'
import {
  BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor, WorkerLost, fromModule, wait, wrapSync,
} from 'concurrent-futures'
import { gather, runInExecutor } from 'concurrent-futures/loop'

const tasks = fromModule<typeof import('./smoke-tasks.js')>(new URL('./smoke-tasks.ts', import.meta.url))
const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : `node-${process.versions.node.split('.')[0]}`
const pools: [string, () => Executor][] = [
  ['threads', () => new ThreadPoolExecutor({ maxWorkers: 2 })],
  ['processes', () => new ProcessPoolExecutor({ maxWorkers: 2 })],
]

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what)
}

const checks: [string, (pool: Executor) => Promise<void> | void][] = [
  ['runs elsewhere', async (pool) => {
    const { pid, threadId } = await pool.submit(tasks.where)
    check(pool instanceof ProcessPoolExecutor ? pid !== process.pid : pid === process.pid && threadId !== 0, `ran in pid ${pid}, thread ${threadId}`)
  }],
  ['submit/await', async (pool) => check((await pool.submit(tasks.add, 2, 3)) === 5, 'add(2, 3) !== 5')],
  ['blocking result()', (pool) => check(pool.submit(tasks.add, 1, 2).result(20_000) === 3, 'result() !== 3')],
  ['map', (pool) => check([...pool.map(tasks.square, [1, 2, 3])].join() === '1,4,9', 'map gave other squares')],
  ['wait', (pool) => {
    const { done, notDone } = wait([pool.submit(tasks.add, 1, 1), pool.submit(tasks.square, 4)], { timeout: 20_000 })
    check(done.size === 2 && notDone.size === 0, `wait: ${done.size} done`)
  }],
  ['wrapSync', async (pool) => {
    const zlib = wrapSync<typeof import('node:zlib')>(pool, 'node:zlib')
    check(gunzipSync(await zlib.gzipSync('smoke')).toString() === 'smoke', 'gzip round trip')
  }],
  ['loop bridge', async (pool) => {
    const [a, b] = await gather(runInExecutor(pool, tasks.add, 1, 1), pool.submit(tasks.square, 3))
    check(a === 2 && b === 9, `gather gave ${a}, ${b}`)
  }],
  ['crash of a worker', async (pool) => {
    const error = await pool.submit(tasks.exit, 3).then(() => undefined, (e: unknown) => e)
    check(error instanceof WorkerLost || error instanceof BrokenExecutor, `a worker's exit gave ${String(error)}`)
  }],
]

let passed = 0
let failed = 0
for (const [poolName, make] of pools) {
  const pool = make()
  for (const [name, run] of checks) {
    try {
      await Promise.race([run(pool), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 60 s')), 60_000).unref())])
      passed++
      console.log(`ok   ${runtime} ${poolName}: ${name}`)
    } catch (error) {
      failed++
      console.log(`FAIL ${runtime} ${poolName}: ${name}: ${(error as Error).stack ?? String(error)}`)
    }
  }
  await pool.shutdown({ wait: true, cancelFutures: true })
}
console.log(`${runtime}: ${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
