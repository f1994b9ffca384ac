import { fromModule } from 'concurrent-futures'
import { QueueExecutor } from 'concurrent-futures/queue'
const tasks = fromModule<typeof import('./test/fixtures/tasks.js')>(new URL('./test/fixtures/tasks.ts', import.meta.url))
const ex = new QueueExecutor({ connection: 'redis://127.0.0.1:6390', queue: 'dbg' })
const f = ex.submit(tasks.sleep, 1500, 'x')
for (let i = 0; i < 20; i++) { await new Promise(r => setTimeout(r, 100)); console.log(i, f.state) }
await ex.shutdown()
