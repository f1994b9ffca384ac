// The reference for the queue benchmark: a plain BullMQ worker whose inline
// processor returns the job's data, with no task registry and no local pool.
//   node raw-bullmq-worker.js <redis url> <queue>

import { Worker } from 'bullmq'
import { Redis } from 'ioredis'

const [url, queue] = process.argv.slice(2)
const connection = new Redis(url!, { maxRetriesPerRequest: null })
const worker = new Worker(queue!, async (job) => job.data as unknown, { connection })
await worker.waitUntilReady()
console.log('serving queue')
process.once('SIGTERM', () => {
  void worker.close().then(() => connection.disconnect())
})
