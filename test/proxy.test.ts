import { execFile } from 'node:child_process'
import { pbkdf2Sync } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { remote, WorkerLost, wrapSync, type Executor } from 'concurrent-futures'
import { LoopFuture } from 'concurrent-futures/loop'
import { localBackends, processPool, tasks } from './helpers.js'

const fixtures = new URL('./fixtures/tasks.ts', import.meta.url)
type Counter = typeof import('./fixtures/tasks.js').Counter
/** Names a module does not have, or has as something else than a function. */
interface Untyped { anything(): unknown; gzipTypo(): unknown; constants(): unknown }

describe.each(localBackends)('wrapSync on a $name', ({ make }) => {
  it('node:zlib: every function returns a LoopFuture of its result, loaded in the worker', async () => {
    const zlib = wrapSync<typeof import('node:zlib')>(make(), 'node:zlib')
    const packed = zlib.gzipSync('hello '.repeat(100))
    expect(packed).toBeInstanceOf(LoopFuture)
    expect(gunzipSync(await packed).toString()).toBe('hello '.repeat(100))
  })

  it('node:fs and node:crypto give what the sync calls give inline', async () => {
    const ex = make()
    const fs = wrapSync<typeof import('node:fs')>(ex, 'node:fs')
    const crypto = wrapSync<typeof import('node:crypto')>(ex, 'node:crypto')
    const path = join(mkdtempSync(join(tmpdir(), 'cf-')), 'f.txt')
    await fs.writeFileSync(path, 'from a worker')
    expect(await fs.readFileSync(path, 'utf8')).toBe('from a worker')
    expect(Buffer.from(await crypto.pbkdf2Sync('pw', 'salt', 1000, 32, 'sha256')).equals(pbkdf2Sync('pw', 'salt', 1000, 32, 'sha256'))).toBe(true)
  })

  it('bcryptjs, a real sync library from npm', async () => {
    const bcrypt = wrapSync<typeof import('bcryptjs')>(make(), 'bcryptjs')
    const hash = await bcrypt.hashSync('secret', 4)
    expect(await bcrypt.compareSync('secret', hash)).toBe(true)
    expect(await bcrypt.compareSync('wrong', hash)).toBe(false)
  })

  it('a missing module or export, or a non-function, fails the first call naming it', async () => {
    const ex = make()
    await expect(wrapSync<Untyped>(ex, 'no-such-package-here').anything()).rejects.toThrow(/cannot load task module no-such-package-here \(for its export 'anything'\)/)
    await expect(wrapSync<Untyped>(ex, 'node:zlib').gzipTypo()).rejects.toThrow(/has no export 'gzipTypo'/)
    await expect(wrapSync<Untyped>(ex, 'node:zlib').constants()).rejects.toThrow(TypeError)
    await expect(wrapSync<Untyped>(ex, 'node:zlib').constants()).rejects.toThrow(/export 'constants' of node:zlib is a object, not a function/)
  })

  it('a callback argument is refused at the call site, naming it', () => {
    const fs = wrapSync<typeof import('node:fs')>(make(), 'node:fs')
    expect(() => fs.existsSync((() => 'x') as never)).toThrow(/node:fs#existsSync: argument 0 is a function, and functions \(callbacks too\) cannot be sent/)
    expect(() => fs.readFileSync('x', { encoding: 'utf8', onRead: () => {} } as never)).toThrow(/argument 1's property 'onRead' is a function/)
  })
})

describe.each(localBackends)('remote objects on a $name', ({ make, recycleAfter, replaceDead }) => {
  it('live in one worker: calls run there in order, state persists, properties read by await', async () => {
    const ex = make({ maxWorkers: 2 })
    await using counter = await remote<Counter>(ex, fixtures, 'Counter', 10)
    const where = await counter.location()
    const results = await Promise.all([counter.slowAdd(1, 30), counter.add(2), counter.slowAdd(3, 5), counter.add(4)])
    expect(results).toEqual([11, 13, 16, 20])
    expect(await counter.count).toBe(20)
    for (let i = 0; i < 5; i++) expect(await counter.location()).toBe(where)
  })

  it('keep their worker through maxTasks recycling, which still takes other work, and a disposed one refuses calls without sending them', async () => {
    const ex = make({ maxWorkers: 1, ...recycleAfter(2) })
    const counter = await remote<Counter>(ex, fixtures, 'Counter')
    const where = await counter.location()
    for (let i = 1; i <= 5; i++) expect(await counter.add(1)).toBe(i)
    expect(await counter.location()).toBe(where)
    // Past its quota, the worker holding the object still runs other work.
    expect(ex.submit(tasks.whereAmI).result(10_000)).toBe(where)
    await counter[Symbol.asyncDispose]()
    await expect(counter.add(1)).rejects.toThrow(/remote Counter of .*tasks\.ts \(#\d+\) was disposed: the call of add\(\) was not sent/)
    await expect(counter.count).rejects.toThrow(/was disposed/)
  })

  it('when their worker dies, every call rejects naming the object, never hangs', async () => {
    const ex = make({ maxWorkers: 1, ...replaceDead })
    const counter = await remote<Counter>(ex, fixtures, 'Counter')
    const dying = counter.exit()
    const after = counter.add(1)
    await expect(dying).rejects.toBeInstanceOf(WorkerLost)
    await expect(after).rejects.toThrow(/remote Counter of .* is gone: the worker that held it exited with code 7/)
    await expect(counter.add(1)).rejects.toThrow(/is gone/)
  })

  it('one that fails to be made does not hold its worker back from recycling', async () => {
    const ex = make({ maxWorkers: 1, ...recycleAfter(1) })
    await expect(remote<Counter>(ex, fixtures, 'nothing')).rejects.toThrow(/has no export 'nothing'/)
    const first = ex.submit(tasks.whereAmI).result(10_000)
    expect(ex.submit(tasks.whereAmI).result(10_000)).not.toBe(first)
  })

  it('a factory function makes one too; an export that is neither class nor function rejects remote() itself', async () => {
    await expect(remote<Counter>(make(), fixtures, 'add')).resolves.toBeDefined() // add(undefined, undefined) is the object
    await expect(remote<Counter>(make(), fixtures, 'notAFunction')).rejects.toThrow(/export 'notAFunction' of .* is a number, not a function/)
    await expect(remote<Counter>(make(), fixtures, 'nothing')).rejects.toThrow(/has no export 'nothing'/)
  })
})

describe('remote() and what it accepts', () => {
  it("refuses an object that only looks like a pool (methods of the pools' names), without calling it", async () => {
    let called = false
    const lookalike = {
      submitPinned: () => { called = true; throw new Error('a look-alike was called') },
      unpin: () => {},
      whenRoom: () => Promise.resolve(),
      hasRoom: () => true,
    } as unknown as Executor
    await expect(remote<Counter>(lookalike, fixtures, 'Counter')).rejects.toThrow(/remote\(\) needs a ThreadPoolExecutor or a ProcessPoolExecutor/)
    expect(called).toBe(false)
  })
})

describe('a remote object dropped without being disposed', () => {
  it('releases its worker once collected', async () => {
    const script = fileURLToPath(new URL('./fixtures/forgotten-remote.ts', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', script], { timeout: 30_000 })
    expect(stdout.trim()).toBe('released')
  })
})

describe('the file-object case and a stateful library', () => {
  it('a file opened, written, read and closed inside a child process, each an awaited call', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cf-')), 'notes.txt')
    const file = await remote<typeof import('../examples/sync-file.js').SyncFile>(processPool(), new URL('../examples/sync-file.ts', import.meta.url), 'SyncFile', path)
    expect(await file.write('line one\n')).toBe(9)
    await file.write('line two\n')
    expect(await file.read()).toBe('line one\nline two\n')
    expect(await file.openedIn).not.toBe(process.pid)
    await file.close()
    await file[Symbol.asyncDispose]()
  })

  it('an SQLite database (sql.js) keeps its state across calls in one worker', async () => {
    const db = await remote<typeof import('../examples/sql-database.js').openDatabase>(processPool(), new URL('../examples/sql-database.ts', import.meta.url), 'openDatabase')
    await db.run('PRAGMA user_version = 42')
    expect(await db.exec('PRAGMA user_version')).toEqual([{ columns: ['user_version'], values: [[42]] }])
    await db.run('CREATE TABLE notes (body TEXT)')
    await db.run('INSERT INTO notes VALUES (?), (?)', ['one', 'two'])
    expect((await db.exec('SELECT count(*) FROM notes'))[0]?.values).toEqual([[2]])
    await db.close()
    await db[Symbol.asyncDispose]()
  })
})

describe('the examples run', () => {
  const run = (name: string): Promise<{ stdout: string }> =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`../examples/${name}.ts`, import.meta.url))], { timeout: 30_000 })

  it.each([
    ['offload-cpu', /^17984 primes below 200000, counted on a worker thread$/],
    ['wrap-sync-library', /^2 hashes, bcrypt format; the loop ticked meanwhile$/],
    ['remote-object', /^written in a child process \(pid \d+, not \d+\)$/],
    ['urgent-first', /^3 urgent tasks done before [1-9]\d* of the 40 background tasks$/],
    ['progress-bar', /^148933 primes below 2000000; the bar was drawn as the task ran$/],
    ['stream-lines', /^100000 sales parsed in a worker thread and streamed back \(of 100000 lines\): amounts total 1237500$/],
  ])('%s', async (name, expected) => {
    expect((await run(name)).stdout.trim()).toMatch(expected)
  })
})

