// A synchronous library made async: bcryptjs's hashSync runs on worker
// threads while the event loop keeps ticking.  node --import tsx examples/wrap-sync-library.ts
import { ThreadPoolExecutor, wrapSync } from 'concurrent-futures'

await using pool = new ThreadPoolExecutor({ maxWorkers: 2 })
const bcrypt = wrapSync<typeof import('bcryptjs')>(pool, 'bcryptjs')
let ticks = 0
const ticker = setInterval(() => ticks++, 10)
const hashes = await Promise.all(['alice', 'bob'].map((password) => bcrypt.hashSync(password, 10)))
clearInterval(ticker)
console.log(`${hashes.length} hashes, ${hashes.every((h) => h.startsWith('$2b$10$')) ? 'bcrypt format' : 'unexpected'}; the loop ticked ${ticks > 0 ? 'meanwhile' : 'never'}`)
