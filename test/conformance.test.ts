// docs/CONFORMANCE.md is the index of the checklist items (B1-B138) the tests
// cite. This keeps it true, by reading files only: every item is listed once
// with a known status, every test and DECISIONS entry it names exists, and
// every id a test cites is listed, under the tests whose names cite it.

import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string): string => readFileSync(join(root, path), 'utf8')

const ITEMS = 138
const STATUSES = ['covered', 'covered (partly)', 'difference', 'not applicable', 'not covered'] as const
type Status = (typeof STATUSES)[number]

type Citation = { file: string; name: string }
type Item = { id: number; status: string; text: string; citations: Citation[] }

const conformance = read('docs/CONFORMANCE.md')
const headings = new Set(read('docs/DECISIONS.md').split('\n').filter((line) => line.startsWith('## ')).map((line) => line.slice(3).trim()))

function citationsIn(text: string): Citation[] {
  return [...text.matchAll(/`(test\/[\w./-]+\.test\.ts)`\s*›\s*`([^`]+)`/g)].map(([, file, name]) => ({ file: file!, name: name! }))
}

/** An item is its line `- **Bn** · status · ...` and the indented lines under it. */
function parseItems(): Item[] {
  const items: Item[] = []
  let open: Item | undefined
  for (const line of conformance.split('\n')) {
    const start = /^- \*\*B(\d+)\*\* · ([^·]+?) · /.exec(line)
    if (start) items.push((open = { id: Number(start[1]), status: start[2]!, text: line, citations: [] }))
    else if (open && /^\s+\S/.test(line)) open.text += `\n${line}`
    else if (line.trim() !== '') open = undefined
  }
  for (const item of items) item.citations = citationsIn(item.text)
  return items
}

/** Every TypeScript file under test/, but this one: path from the root → source. */
function testSources(): Map<string, string> {
  const sources = new Map<string, string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (/\.tsx?$/.test(entry.name)) sources.set(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8'))
    }
  }
  walk(join(root, 'test'))
  sources.delete('test/conformance.test.ts')
  return sources
}

/** The string literals of a source, outside comment lines, unescaped: where test names live. */
function literalsOf(source: string): string[] {
  const code = source.split('\n').filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line)).join('\n')
  return [...code.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)]
    .map((m) => (m[1] ?? m[2] ?? m[3]!).replace(/\\(.)/g, '$1'))
}

const PLACEHOLDER = /\$\{[^}]*\}|\$[A-Za-z_][\w.]*|%[sdifjoO#]/g

/** Whether a name vitest shows matches a title in the source: exactly, or through `$name`/`%s` of `.each`. */
function shows(literal: string, segment: string): boolean {
  const parts = literal.split(PLACEHOLDER)
  if (parts.length === 1) return literal === segment
  // A title that is nothing but a placeholder ('$name') names a table row: an identifier, which vitest quotes.
  if (parts.every((part) => part === '')) return /^'?[A-Za-z]\w*'?$/.test(segment)
  const escaped = parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${escaped.join('.+')}$`).test(segment)
}

/** The ids a text cites, ranges (B2-B6) expanded. */
function idsIn(text: string): number[] {
  return [...text.matchAll(/\bB(\d{1,3})(?:\s*[-–]\s*B(\d{1,3}))?\b/g)].flatMap(([, from, to]) => {
    const first = Number(from)
    const last = to === undefined ? first : Number(to)
    return Array.from({ length: Math.max(last - first + 1, 1) }, (_, i) => first + i)
  })
}

const items = parseItems()
const byId = new Map(items.map((item) => [item.id, item]))
const sources = testSources()
const literals = new Map([...sources].map(([file, source]) => [file, literalsOf(source)]))

describe('docs/CONFORMANCE.md', () => {
  it('lists B1 to B138 once each, in order, each with a known status', () => {
    expect(items.map((item) => item.id)).toEqual(Array.from({ length: ITEMS }, (_, i) => i + 1))
    const unknown = items.filter((item) => !STATUSES.includes(item.status as Status)).map((item) => `B${item.id}: '${item.status}'`)
    expect(unknown).toEqual([])
  })

  it('names a test for what is covered, none for what is not, and a DECISIONS entry for each difference', () => {
    const problems = items.flatMap((item) => {
      const covered = item.status.startsWith('covered')
      if (covered && item.citations.length === 0) return [`B${item.id} is ${item.status} but names no test`]
      if (item.status === 'not covered' && item.citations.length > 0) return [`B${item.id} is not covered but names a test`]
      if (item.status === 'difference' && !item.text.includes('DECISIONS: "')) return [`B${item.id} is a difference without a DECISIONS entry`]
      return []
    })
    expect(problems).toEqual([])
  })

  it('names only tests that exist', () => {
    const problems = citationsIn(conformance).flatMap(({ file, name }) => {
      const titles = literals.get(file)
      if (!titles) return [`${file} does not exist`]
      return name.split(' > ').filter((segment) => !titles.some((title) => shows(title, segment))).map((segment) => `${file}: no test named '${segment}'`)
    })
    expect(problems).toEqual([])
  })

  it('names only DECISIONS entries that exist', () => {
    const named = [...conformance.matchAll(/DECISIONS: "([^"\n]+)"/g)].map(([, heading]) => heading!)
    expect(named.length).toBeGreaterThan(0)
    expect(named.filter((heading) => !headings.has(heading))).toEqual([])
  })

  it('lists every id a test cites, as covered or explained, under each test whose name cites it', () => {
    const problems: string[] = []
    for (const [file, source] of sources) {
      for (const id of idsIn(source)) {
        const item = byId.get(id)
        if (!item) problems.push(`${file} cites B${id}, which is not listed`)
        else if (item.status === 'not covered') problems.push(`${file} cites B${id}, listed as not covered`)
      }
      for (const title of literals.get(file)!) {
        for (const id of new Set(idsIn(title))) {
          const listed = byId.get(id)?.citations.some((c) => c.file === file && c.name.split(' > ').some((segment) => shows(title, segment)))
          if (!listed) problems.push(`B${id} does not list ${file} › '${title}'`)
        }
      }
    }
    expect([...new Set(problems)]).toEqual([])
  })
})
