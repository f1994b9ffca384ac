// wrapSync beside the same calls made inline, and a proxy call beside a plain submit().

import bcrypt from 'bcryptjs'
import { ThreadPoolExecutor, wrapSync, type Executor } from '../src/index.js'
import { timed } from './measure.js'
import { offloadFigures } from './offload.js'
import { microsEach, perSecond, row } from './report.js'
import { tasks, WORKERS, ROUNDS, SEQ } from './workloads.js'

const HASHES = 16
const COST = 8

const wrapped = (ex: Executor) => {
  const async = wrapSync<typeof import('bcryptjs')>(ex, 'bcryptjs')
  return (): Promise<unknown> => Promise.all(Array.from({ length: HASHES }, () => async.hashSync('password', COST)))
}

export async function benchProxy(): Promise<void> {
  console.error('proxies: bcryptjs through wrapSync')
  const { blocked, viaThreads, viaProcesses } = await offloadFigures(HASHES, () => bcrypt.hashSync('password', COST), wrapped)
  const name = `${HASHES} × bcrypt.hashSync(cost ${COST})`
  row(`proxy: hashes/s, wrapSync on threads, ${name}`, perSecond(viaThreads.ms, HASHES), perSecond(blocked.ms, HASHES), 'inline', '/s', '≈ 2× inline')
  row(`proxy: hashes/s, wrapSync on processes, ${name}`, perSecond(viaProcesses.ms, HASHES), perSecond(blocked.ms, HASHES), 'inline', '/s', '≈ 2× inline')
  row('proxy: loop delay p99, wrapSync on threads', viaThreads.p99, blocked.p99, 'inline', 'ms', 'far below inline')
  row('proxy: loop delay p99, wrapSync on processes', viaProcesses.p99, blocked.p99, 'inline', 'ms', 'far below inline')

  const threads = new ThreadPoolExecutor({ maxWorkers: WORKERS })
  const noop = wrapSync<typeof import('./tasks.js')>(threads, new URL('./tasks.js', import.meta.url))
  await Promise.all(Array.from({ length: 1000 }, (_, i) => noop.noop(i))) // warm
  const proxied = microsEach(await timed(ROUNDS, async () => { for (let i = 0; i < SEQ; i++) await noop.noop(i) }), SEQ)
  const plain = microsEach(await timed(ROUNDS, async () => { for (let i = 0; i < SEQ; i++) await threads.submit(tasks.noop, i) }), SEQ)
  row('proxy: sequential call through wrapSync', proxied, plain, 'plain submit()', 'µs', '≈ 1×')
  await threads.shutdown()
}
