// Every ```ts block of README.md, run as a user would run it, so an example
// that does not work fails the suite. The convention, for whoever adds one:
//   ```ts          runs with `node --import tsx` and must exit 0 (type-checked too);
//   ```ts check    is only type-checked (it needs Redis or another machine);
//   a first line `// file: name.ts` makes the block a module the others import.
// Blocks are files in one folder, .readme/, beside a copy of examples/, inside
// this package (so `import 'concurrent-futures'` resolves, as it would installed).
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = join(root, '.readme')

interface Block { line: number; file: string; run: boolean }

function extract(): Block[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  cpSync(join(root, 'examples'), join(dir, 'examples'), { recursive: true })
  const blocks: Block[] = []
  for (const m of readme.matchAll(/^( *)```ts( check)?\n([\s\S]*?)^\1```$/gm)) {
    const [, indent = '', check, body = ''] = m
    const code = body.split('\n').map((l) => l.slice(indent.length)).join('\n')
    const line = readme.slice(0, m.index).split('\n').length
    const named = /^\/\/ file: (\S+\.ts)/.exec(code)?.[1]
    const file = named ?? `line-${line}.ts`
    writeFileSync(join(dir, file), code)
    blocks.push({ line, file, run: !named && !check })
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, noUnusedLocals: false, rootDir: '..' },
    include: ['*.ts'],
  }))
  return blocks
}

const blocks = extract()
const run = promisify(execFile)

describe('README.md', () => {
  it('has ts blocks to test', () => {
    expect(blocks.filter((b) => b.run).length).toBeGreaterThanOrEqual(2)
  })

  it('every ts block type-checks (errors name the block by its README line: .readme/line-N.ts)', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    const { stdout } = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root }).catch((e: { stdout: string }) => e)
    expect(stdout).toBe('')
  })

  it.each(blocks.filter((b) => b.run).map((b) => [b.line, b.file] as const))('the block at line %i runs and exits 0', async (_line, file) => {
    await expect(run(process.execPath, ['--import', 'tsx', join(dir, file)], { cwd: root, timeout: 60_000 })).resolves.toBeDefined()
  })
})
