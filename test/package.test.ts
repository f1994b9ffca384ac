// The package as npm would publish it: only what users need, and clean for
// publint and "are the types wrong" (ESM only: see docs/DECISIONS.md).
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = (file: string, args: string[]) => promisify(execFile)(file, args, { cwd: root, timeout: 120_000 })
const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url))

describe('the published package', () => {
  it('holds the built library, its workers, README and LICENSE: no bench, no source maps, no tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'])
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }]
    const paths = files.map((f) => f.path)
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/workers/thread-worker.js']))
    expect(paths.filter((p) => !/^(LICENSE|README\.md|package\.json|dist\/src\/.*\.(js|d\.ts)|dist\/workers\/.*\.js)$/.test(p))).toEqual([])
  })

  it('hides every @internal member from its declarations, overrides included', async () => {
    const { stdout: marked } = await run('grep', ['-rhA1', '@internal', 'src'])
    const names = [...new Set([...marked.matchAll(/^\s*(?:override\s+)?(?:async\s+)?#?(\w+)\s*[(<]/gm)].map((m) => m[1]!))]
    expect(names).toEqual(expect.arrayContaining(['submitPinned', 'unpin', 'bindClaim']))
    const members = new RegExp(`^\\s+(?:${names.join('|')})\\s*[(<]`, 'm')
    const leaked = readdirSync(join(root, 'dist/src'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.d.ts') && members.test(readFileSync(join(root, 'dist/src', file), 'utf8')))
    expect(leaked).toEqual([])
  })

  it('passes publint --strict', async () => {
    const { stdout } = await run(bin('publint'), ['--strict'])
    expect(stdout).toMatch(/All good!/)
  })

  it('passes attw --pack with the esm-only profile', async () => {
    await expect(run(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped'])).resolves.toBeDefined()
  })
})
