// Every public export has a doc comment (TypeDoc builds the API reference from
// them: npm run docs). A failure names the entry, the export and its file.
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const entries = { 'concurrent-futures': 'index', 'concurrent-futures/loop': 'loop', 'concurrent-futures/queue': 'queue', 'concurrent-futures/worker': 'worker' }
const file = (name: string) => fileURLToPath(new URL(`../src/${name}.ts`, import.meta.url))
const program = ts.createProgram(Object.values(entries).map(file), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true })
const checker = program.getTypeChecker()

function undocumented(entry: string): string[] {
  const source = program.getSourceFile(file(entry))!
  const missing: string[] = []
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    const declaration = symbol.declarations?.[0]
    const documented = symbol.getDocumentationComment(checker).length > 0 || (declaration !== undefined && ts.getJSDocTags(declaration).length > 0)
    if (!documented) missing.push(`${exported.name} (${declaration?.getSourceFile().fileName.replace(/^.*\/src\//, 'src/') ?? '?'})`)
  }
  return missing
}

describe('the API reference', () => {
  it.each(Object.entries(entries))('every export of %s has a doc comment', (_name, entry) => {
    expect(undocumented(entry)).toEqual([])
  })
})
