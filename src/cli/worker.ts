// `concurrent-futures worker`: serves a queue until SIGTERM or SIGINT, which
// let the running jobs finish (a second one stops at once: with Redis away,
// finishing can wait forever), or until the supervisor that forked it goes
// away, which stops it at once (its close ends within a grace period whatever Redis does); its running jobs then stall and run again
// elsewhere.

import { serve, type ServeOptions } from '../queue/serve.js'

export async function runWorker(options: ServeOptions): Promise<void> {
  const worker = await serve(options)
  console.log(`serving queue ${options.queue}: ${worker.tasks.join(', ')}`)
  const now = (): never => process.exit(1)
  process.once('disconnect', now)
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  process.once('SIGTERM', now)
  process.once('SIGINT', now)
  await worker.close()
  // BullMQ's connections may still be retrying an unreachable Redis (its close() gave up on them): they must not keep the process.
  process.exit(0)
}
