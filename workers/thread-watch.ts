// The watch thread of a ThreadPoolExecutor. A worker that runs out of memory
// or is terminated natively ends without a word; only its Worker 'exit' event
// says so, and that needs the pool thread's event loop, which a blocking
// result() has stopped. Each worker holds one end of a channel whose other
// end is here: a port closes when its thread ends, however it ends, and this
// thread tells the pool thread through its doorbell.

import { workerData } from 'node:worker_threads'
import { ring } from '../src/concurrent/blocking.js'
import type { FromWatch, ThreadWatchData, ToWatch } from '../src/wire/protocol.js'

const { port, doorbell } = workerData as ThreadWatchData
const bell = new Int32Array(doorbell)

port.on('message', ({ watch, life }: ToWatch) => {
  life.on('close', () => {
    port.postMessage({ closed: watch } satisfies FromWatch)
    ring(bell)
  })
  life.unref()
})
