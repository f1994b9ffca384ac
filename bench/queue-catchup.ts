// How long finished jobs take to reach their futures after the client comes
// back from a pause during which the events stream was trimmed away:
//   npm run build --silent && node --import tsx bench/queue-catchup.ts [jobs]
// (a client process submits the jobs, is SIGSTOPped until two workers have
// run them all and the stream is emptied, and reports from its SIGCONT.)

import { fork, spawn } from 'node:child_process'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { fileURLToPath } from 'node:url'
import { startRedis } from './redis-server.js'

const count = Number(process.argv[2] ?? 20_000)
const redis = startRedis()
const queue = 'catchup'
const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
const tasks = fileURLToPath(new URL('../test/fixtures/tasks.ts', import.meta.url))
const workers = [0, 1].map(() => fork(cli, ['worker', '--queue', queue, '--tasks', tasks, '--redis', redis.url, '--concurrency', '4'], { execArgv: ['--import', 'tsx'], stdio: 'ignore' }))
const client = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../test/fixtures/queue-client.ts', import.meta.url))], {
  env: { ...process.env, REDIS_URL: redis.url, QUEUE: queue, COUNT: String(count) },
  stdio: ['pipe', 'pipe', 'inherit'],
})
let out = ''
client.stdout.on('data', (chunk: Buffer) => (out += chunk))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
while (!out.includes('submitted')) await sleep(10)
client.kill('SIGSTOP')
const paused = Date.now()
const raw = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
for (;;) {
  const counts = await raw.getJobCounts('waiting', 'active', 'delayed', 'completed')
  if (counts.completed === count) break
  await sleep(200)
}
const ran = Date.now() - paused
const admin = new Redis(redis.url)
await admin.xtrim(`bull:${queue}:events`, 'MAXLEN', 0)
await sleep(Math.max(0, paused + 5000 - Date.now())) // every job overdue (reconcileMs 5000)
client.kill('SIGCONT')
client.stdin.write('go\n')
while (out.trim().split('\n').length < 2) await sleep(10)
console.log(`${count} jobs run by 2 workers in ${ran} ms while the client was paused; after it resumed:`, out.trim().split('\n')[1])
await Promise.all([raw.close(), admin.quit()])
for (const worker of workers) worker.kill('SIGTERM')
redis.stop()
