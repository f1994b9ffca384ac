// One rule for task modules on both pools: under tsx, a task module is named
// as TypeScript's own imports name it, './tasks.js' for tasks.ts on disk.
import { describe, expect, it } from 'vitest'
import { fromModule, taskRef } from 'concurrent-futures'
import { localBackends } from './helpers.js'

const asImported = fromModule<typeof import('./fixtures/tasks.js')>(new URL('./fixtures/tasks.js', import.meta.url))
const asOnDisk = fromModule<typeof import('./fixtures/tasks.js')>(new URL('./fixtures/tasks.ts', import.meta.url))

describe.each(localBackends)('a task module on a $name, under tsx', ({ make }) => {
  it("named './tasks.js' with only tasks.ts on disk, as a TypeScript import names it", async () => {
    expect(await make().submit(asImported.add, 2, 3)).toBe(5)
  })

  it("named './tasks.ts', as Node's type stripping needs it", async () => {
    expect(await make().submit(asOnDisk.add, 2, 3)).toBe(5)
  })
})

describe.each(localBackends)('task names on a $name', ({ make }) => {
  it("a module URL with a fragment and an export name with '#' are two functions, not one", async () => {
    const url = new URL('./fixtures/hash-names.mjs', import.meta.url).href
    const pool = make()
    expect(await pool.submit(taskRef<() => string>(`${url}#b`, 'c'))).toBe('c')
    expect(await pool.submit(taskRef<() => string>(url, 'b#c'))).toBe('b#c')
  })
})
