import { createRequire } from 'node:module'; const require = createRequire(import.meta.url)
import { ProcessPoolExecutor, fromModule, type Future } from 'concurrent-futures'
const tasks = fromModule<typeof import('../test/fixtures/tasks.js')>(new URL('../test/fixtures/tasks.ts', import.meta.url))
let seed = 12
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const ex = new ProcessPoolExecutor({ maxWorkers: 2, onChildExit: 'replace' })
for (let round = 0; round < 6; round++) {
  const futures: Array<[Future<unknown>, string, number]> = []
  for (let i = 0; i < 150; i++) {
    const r = random()
    if (r < 0.04) futures.push([ex.submit(tasks.throwWhileWaiting), 'throw', i])
    else if (r < 0.08) futures.push([ex.submit(tasks.exit, 3), 'exit', i])
    else futures.push([ex.submit(tasks.identity, i), 'value', i])
  }
  const t = setTimeout(() => { console.log('round', round, 'pending', futures.filter(([f]) => !f.done()).map(([f, k, i]) => `${k}${i}:${f.state}`).join(' ')); console.log(require('node:child_process').execSync('ps -o pid,ppid,stat,etime,args --ppid ' + process.pid).toString()); console.log((ex as any).members.map((m: any) => [m.id, [...m.jobs.keys()], m.exited, m.retiring]), (ex as any).slots.available, (ex as any).queueInfo?.(), (ex as any).slots.states.slice(0, 8)); process.exit(1) }, 60000)
  await Promise.allSettled(futures.map(([f]) => f))
  clearTimeout(t)
  const bad = futures.filter(([f, k, i]) => k === 'value' ? (f.exception() !== undefined || f.result() !== i) : !(f.exception() instanceof Error))
  console.log('round', round, 'bad', bad.map(([f, k, i]) => `${k}${i}:${String(f.exception())}`).slice(0, 5))
}
await ex.shutdown()
