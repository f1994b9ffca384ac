// The distributed executor, a separate entry so that only its users need
// bullmq and ioredis: import { QueueExecutor } from 'concurrent-futures/queue'

export { JobLost, QueueUnavailable, type LostJob } from './concurrent/errors.js'
export { QueueExecutor, type QueueExecutorOptions, type QueueSubmitOptions } from './queue/queue-executor.js'
export { serve, type QueueWorker, type ServeOptions } from './queue/serve.js'
export type { Backoff, Connection, KeepJobs } from './queue/protocol.js'
