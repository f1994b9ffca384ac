// A stateful sync object living in a child process: every call is awaited,
// the event loop never blocks.  node --import tsx examples/remote-object.ts
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProcessPoolExecutor, remote } from 'concurrent-futures'

await using pool = new ProcessPoolExecutor({ maxWorkers: 1 })
const path = join(mkdtempSync(join(tmpdir(), 'cf-example-')), 'notes.txt')
await using file = await remote<typeof import('./sync-file.js').SyncFile>(pool, new URL('./sync-file.ts', import.meta.url), 'SyncFile', path)
await file.write('written in a child process\n')
console.log((await file.read()).trim(), `(pid ${await file.openedIn}, not ${process.pid})`)
await file.close()
