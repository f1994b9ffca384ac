// `concurrent-futures worker`: serves a queue until SIGTERM or SIGINT, or,
// when a supervisor forked it, until the supervisor goes away.

import { serve, type ServeOptions } from '../queue/serve.js'

export async function runWorker(options: ServeOptions): Promise<void> {
  const worker = await serve(options)
  console.log(`serving queue ${options.queue}: ${worker.tasks.join(', ')}`)
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve()
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    process.once('disconnect', stop)
  })
  await worker.close()
  if (process.connected) process.disconnect()
}
