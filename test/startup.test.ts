// Start-up is part of the contract: a worker, child, relay or watch thread
// that cannot start breaks its pool with what it died of (never the host),
// respawns are bounded, shutdown() resolves; and the flags a pool's workers
// inherit are filtered per family (src/executors/exec-argv.ts).

import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BrokenProcessPool, BrokenThreadPool, fromModule, WorkerLost } from 'concurrent-futures'
import { inheritedFlags } from '../src/executors/exec-argv.js'
import { pool, processPool, tasks, until } from './helpers.js'
import { alive, poolChildren } from './soak/system.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const hostFile = fixture('startup-host.mjs')
const throwPreload = fixture('throw-preload.cjs')
const markPreload = fixture('mark-preload.cjs')
const exitOnLoad = fromModule<{ task(): string }>(new URL('./fixtures/exit-on-load.mjs', import.meta.url))
const oomOnLoad = fromModule<{ task(): number }>(new URL('./fixtures/oom-on-load.mjs', import.meta.url))

describe('inheritedFlags', () => {
  // Flag lists drawn from each family; every value is any string, so a value
  // that looks like a flag must still travel with (or go with) its flag.
  const value = fc.string()
  const host = fc.constantFrom('127.0.0.1', 'localhost', '0.0.0.0', '[::1]')
  const port = fc.integer({ min: 0, max: 65535 }).map(String)
  const address = fc.oneof(
    port.map((p) => ({ text: p, host: undefined })),
    fc.tuple(host, port).map(([h, p]) => ({ text: `${h}:${p}`, host: h })),
    host.map((h) => ({ text: h, host: h })),
  )
  type Item = { kind: 'dropped' | 'process-only' | 'kept'; tokens: readonly string[] } | { kind: 'inspector'; tokens: readonly string[]; replacement: string }
  const dropped = fc.oneof(
    fc.constantFrom(['--input-type=module'], ['--test'], ['--test-only'], ['--test-reporter=tap'], ['--experimental-test-coverage'],
      ['--watch'], ['--watch-preserve-output'], ['--watch-path=/tmp'], ['--check'], ['-c'], ['-i'], ['--interactive']),
    fc.tuple(fc.constantFrom('--input-type', '-e', '--eval', '-p', '--print', '-pe', '--test-reporter', '--test-name-pattern', '--watch-path', '--run'), value),
    value.map((v) => [`--eval=${v}`]),
    value.map((v) => [`--print=${v}`]),
  ).map((tokens): Item => ({ kind: 'dropped', tokens }))
  const inspector = fc.oneof(
    fc.constantFrom('--inspect', '--inspect-brk', '--inspect-wait').map((flag) => ({ tokens: [flag], replacement: '--inspect=0' })),
    fc.tuple(fc.constantFrom('--inspect', '--inspect-brk', '--inspect-wait'), address)
      .map(([flag, a]) => ({ tokens: [`${flag}=${a.text}`], replacement: `--inspect=${a.host ? `${a.host}:` : ''}0` })),
    fc.tuple(fc.constantFrom('--inspect-port', '--debug-port'), address, fc.boolean())
      .map(([flag, a, inline]) => ({ tokens: inline ? [`${flag}=${a.text}`] : [flag, a.text], replacement: `--inspect-port=${a.host ? `${a.host}:` : ''}0` })),
  ).map((x): Item => ({ kind: 'inspector', ...x }))
  const processOnly = fc.oneof(
    fc.constantFrom(['--max-old-space-size=100'], ['--max-semi-space-size=16'], ['--stack-size=900'], ['--expose-gc'], ['--title=x'],
      ['--zero-fill-buffers'], ['--v8-pool-size=2'], ['--disable-proto=throw'], ['--perf-basic-prof'], ['--jitless']),
    value.map((v) => ['--title', v]),
  ).map((tokens): Item => ({ kind: 'process-only', tokens }))
  const kept = fc.oneof(
    fc.constantFrom(['--experimental-vm-modules'], ['--experimental-default-type=module'], ['--no-warnings'], ['--enable-source-maps'],
      ['--unhandled-rejections=strict'], ['--conditions=dev'], ['--import=tsx'], ['--preserve-symlinks']),
    fc.tuple(fc.constantFrom('--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C'), value),
  ).map((tokens): Item => ({ kind: 'kept', tokens }))
  const items = fc.array(fc.oneof(dropped, inspector, processOnly, kept), { maxLength: 12 })

  it('gives a child everything but what selects an entry, and a free inspector port that never waits', () => {
    fc.assert(fc.property(items, (list) => {
      const expected = list.flatMap((item) => (item.kind === 'dropped' ? [] : item.kind === 'inspector' ? [item.replacement] : item.tokens))
      expect(inheritedFlags('process', list.flatMap((item) => item.tokens))).toEqual(expected)
    }))
  })

  it('gives a thread only what is per thread: no entry, inspector, V8 or process-wide flags', () => {
    fc.assert(fc.property(items, (list) => {
      const expected = list.flatMap((item) => (item.kind === 'kept' ? item.tokens : []))
      expect(inheritedFlags('thread', list.flatMap((item) => item.tokens))).toEqual(expected)
    }))
  })

  it('is idempotent', () => {
    fc.assert(fc.property(items, fc.constantFrom('thread' as const, 'process' as const), (list, family) => {
      const once = inheritedFlags(family, list.flatMap((item) => item.tokens))
      expect(inheritedFlags(family, once)).toEqual(once)
    }))
  })
})

describe('a worker thread that cannot start', () => {
  it('breaks the pool with its error when its preload throws, awaited or blocked, and shutdown resolves', async () => {
    const awaited = pool({ execArgv: ['-r', throwPreload] })
    const error = await rejection(awaited.submit(tasks.identity, 1))
    expect(error).toBeInstanceOf(BrokenThreadPool)
    expect((error as Error).message).toMatch(/failed to start/)
    expect(((error as Error).cause as Error).message).toBe('this preload refuses to load')
    expect(() => awaited.submit(tasks.identity, 1)).toThrow(BrokenThreadPool)
    await awaited.shutdown()

    const blocked = pool({ execArgv: ['-r', throwPreload] })
    expect(() => blocked.submit(tasks.identity, 1).result(20_000)).toThrow(BrokenThreadPool)
    await blocked.shutdown()
  })

  it('is refused at the door when its resourceLimits are too small to boot (it once respawned forever)', () => {
    expect(() => pool({ resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } })).toThrow(/maxOldGenerationSizeMb must be .* >= 8/)
  })

  it('is not respawned forever when its task module exits as it loads, awaited or blocked', async () => {
    const awaited = pool()
    const error = await rejection(awaited.submit(exitOnLoad.task))
    expect(error).toBeInstanceOf(BrokenThreadPool)
    expect((error as Error).message).toMatch(/5 worker threads in a row ended before finishing a task \(the last exited with code 3\)/)
    expect(() => pool().submit(exitOnLoad.task).result(20_000)).toThrow(/in a row ended before finishing a task/)
  })

  it('is not respawned forever when its task module runs out of memory as it loads', async () => {
    const ex = pool({ resourceLimits: { maxOldGenerationSizeMb: 16 } })
    const error = await rejection(ex.submit(oomOnLoad.task))
    expect(error).toBeInstanceOf(BrokenThreadPool)
    expect((error as Error).message).toMatch(/in a row ended before finishing a task/)
  })

  it('still replaces a worker that dies running a task', async () => {
    const ex = pool({ maxWorkers: 1 })
    for (let i = 0; i < 8; i++) await expect(ex.submit(tasks.exit, 1)).rejects.toThrow(/exited with code 1/)
    expect(await ex.submit(tasks.add, 1, 2)).toBe(3)
  })
})

describe('a child process that cannot start', () => {
  // The pool's own door may refuse these options first; either way the error says why.
  async function failure(options: object): Promise<unknown> {
    try {
      const ex = processPool(options)
      return await rejection(ex.submit(tasks.identity, 1))
    } catch (error) {
      return error
    }
  }

  it.each(['replace', 'break'] as const)('a child killed by a signal before it is ready is a death like any other (onChildExit: %s)', async (onChildExit) => {
    const ex = processPool({ onChildExit, maxWorkers: 1, execArgv: [...process.execArgv, '--require', fixture('slow-preload.cjs')] })
    const first = ex.submit(tasks.identity, 'first')
    let child: number | undefined
    await until(() => (child = poolChildren()[0]) !== undefined, 5_000)
    process.kill(child!, 'SIGKILL') // still in its preload: not ready
    const error = await rejection(first) // it was sent to that child, so it is lost with it
    if (onChildExit === 'replace') {
      expect(error).toBeInstanceOf(WorkerLost)
      expect(await ex.submit(tasks.identity, 'after')).toBe('after')
    } else {
      expect(error).toBeInstanceOf(BrokenProcessPool)
      expect((error as Error).message).toMatch(/terminated abruptly/)
      expect(((error as Error).cause as { signal?: string }).signal).toBe('SIGKILL')
    }
  })

  it('an environment a child cannot take is refused at the door, or breaks the pool with the spawn error', async () => {
    const error = await failure({ env: { A: 'x\0y' } })
    expect(error instanceof BrokenProcessPool ? (error.cause as Error).message : (error as Error).message).toMatch(/null bytes|env\.A must/)
  })

  it('breaks the pool with the spawn error for execArgv that is not a list', async () => {
    const error = await failure({ execArgv: true })
    expect(error instanceof BrokenProcessPool ? error.cause : error).toBeInstanceOf(TypeError)
  })

  it('breaks the pool when its preload throws, and shutdown resolves', async () => {
    const { value, error, shutDown, stderr } = await host([hostFile], { mode: 'probe', pool: 'ProcessPoolExecutor', options: { execArgv: ['-r', throwPreload] } })
    expect(value).toBeUndefined()
    expect(error).toMatchObject({ name: 'BrokenProcessPool', message: expect.stringMatching(/child process failed to start/), cause: { message: expect.stringMatching(/exited with code 1 before it was ready/) } })
    expect(shutDown).toBe(true)
    expect(stderr).toMatch(/this preload refuses to load/) // the child's own report, on the host's stderr
  })

  it.each(['ThreadPoolExecutor', 'ProcessPoolExecutor'])('%s: breaks with the real error when the working directory is gone', async (name) => {
    const { error, shutDown } = await host([hostFile], { mode: 'deleted-cwd', pool: name })
    expect(error).toMatchObject({ name: name === 'ThreadPoolExecutor' ? 'BrokenThreadPool' : 'BrokenProcessPool', cause: { code: 'ENOENT' } })
    expect(shutDown).toBe(true)
  })
})

describe("under Node's permission model", () => {
  const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission'
  const cases = [
    { name: 'ThreadPoolExecutor', allow: [], flag: '--allow-worker', broken: 'BrokenThreadPool' },
    { name: 'ProcessPoolExecutor', allow: [], flag: '--allow-worker', broken: 'BrokenProcessPool' },
    { name: 'ProcessPoolExecutor', allow: ['--allow-worker'], flag: '--allow-child-process', broken: 'BrokenProcessPool' },
  ]
  // (Node 20 lets a worker thread fork whatever the flags: there the last case runs its task.)
  it.each(cases)('$name with $allow breaks the pool and names $flag', async ({ name, allow, flag, broken }) => {
    const { error, value, shutDown, code } = await host([permission, '--allow-fs-read=*', ...allow, '--no-warnings', hostFile], { mode: 'probe', pool: name })
    if (allow.length > 0 && value) return
    expect(error?.name).toBe(broken)
    expect(error!.message).toContain(flag)
    expect(shutDown).toBe(true)
    expect(code).toBe(0)
  })
})

describe('a host started with flags that cannot apply to its workers', () => {
  const pools = ['ThreadPoolExecutor', 'ProcessPoolExecutor'] as const
  const importHost = `await import(${JSON.stringify(pathToFileURL(hostFile).href)})`

  it.each(pools)('%s: --input-type=module -e runs the task and exits cleanly', async (name) => {
    const { value, shutDown, code, stderr } = await host(['--input-type=module', '-e', importHost], { mode: 'probe', pool: name })
    expect(value).toEqual({ execArgv: [], preloaded: false })
    expect({ shutDown, code, stderr }).toEqual({ shutDown: true, code: 0, stderr: '' })
  })

  it.each(pools)('%s: ESM on stdin runs the task and exits cleanly', async (name) => {
    const { value, code, stderr } = await host(['--input-type=module'], { mode: 'probe', pool: name }, importHost)
    expect(value).toEqual({ execArgv: [], preloaded: false })
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  })

  it.each(pools)('%s: -p and -e (CommonJS) run the task', async (name) => {
    for (const flag of ['-p', '-e']) {
      const { value, code } = await host([flag, `import(${JSON.stringify(pathToFileURL(hostFile).href)}).then(() => '')`], { mode: 'probe', pool: name })
      expect(value).toEqual({ execArgv: [], preloaded: false })
      expect(code).toBe(0)
    }
  })

  it.each(pools)('%s: keeps preloads, conditions, --experimental-* and (for children) memory flags', async (name) => {
    const kept = ['-r', markPreload, '--conditions=custom', '--experimental-vm-modules']
    const { value, code, stderr } = await host(['--max-old-space-size=300', ...kept, '--input-type=module', '-e', importHost], { mode: 'probe', pool: name })
    expect(value).toEqual({ execArgv: name === 'ThreadPoolExecutor' ? kept : ['--max-old-space-size=300', ...kept], preloaded: true })
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  })

  it('ProcessPoolExecutor: --inspect on a fixed port gives each child a free one', async () => {
    const port = await freePort()
    const { value, code, stderr } = await host([`--inspect=127.0.0.1:${port}`, hostFile], { mode: 'probe', pool: 'ProcessPoolExecutor', options: { maxWorkers: 2 } })
    expect(value).toEqual({ execArgv: ['--inspect=127.0.0.1:0'], preloaded: false })
    expect(code).toBe(0)
    expect(stderr).not.toMatch(/address already in use/)
  })

  it('an explicit execArgv is used as given, for threads too', async () => {
    const { value } = await host(['--input-type=module', '-e', importHost], { mode: 'probe', options: { execArgv: ['-r', markPreload] } })
    expect(value).toEqual({ execArgv: ['-r', markPreload], preloaded: true })
  })
})

describe('no child outlives its host', () => {
  it.runIf(process.platform === 'linux')('even one stopped at --inspect-brk (asked for), when the host is SIGKILLed', async () => {
    const child = spawn(process.execPath, [hostFile], { env: { ...process.env, CF_HOST: JSON.stringify({ mode: 'stuck-child', options: { execArgv: ['--inspect-brk=0'] } }) } })
    const stderr: string[] = []
    child.stderr.on('data', (chunk: Buffer) => stderr.push(String(chunk)))
    const pids: number[] = []
    try {
      await until(() => stderr.join('').includes('Debugger listening'), 20_000)
      pids.push(...childrenOf(child.pid!))
      const stuck = pids.filter((pid) => commandOf(pid).includes('--inspect-brk'))
      expect(stuck).toHaveLength(1)
      child.kill('SIGKILL')
      await until(() => pids.every((pid) => !alive(pid)), 5_000)
    } finally {
      child.kill('SIGKILL')
      for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL')
    }
  })
})

// --- helpers ---

/** What `future` fails with (undefined if it succeeds). */
function rejection(future: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(future).then(() => undefined, (error: unknown) => error)
}

interface HostRun {
  value?: unknown
  error?: { name: string; message: string; code?: string; cause?: { name: string; message: string; code?: string } }
  shutDown?: boolean
  code: number | null
  stderr: string
}

/** Runs startup-host.mjs (or code that imports it) under `args`, and collects what it printed. */
async function host(args: string[], what: object, stdin?: string): Promise<HostRun> {
  const child = spawn(process.execPath, args, { env: { ...process.env, NODE_OPTIONS: '', CF_HOST: JSON.stringify(what) }, timeout: 30_000 })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)))
  child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)))
  child.stdin.end(stdin)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const lines = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as object)
  // The inspector's own announcements are expected; anything else on stderr is reported.
  stderr = stderr.split('\n').filter((line) => !/^(Debugger listening|For help, see|Debugger attached|Waiting for the debugger)/.test(line)).join('\n').trim()
  return Object.assign({ code, stderr }, ...lines) as HostRun
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** The children of every thread of `pid` (the relay thread forks the pool's). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((thread) => {
    try {
      return readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    } catch {
      return []
    }
  })
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}
