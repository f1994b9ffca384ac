import { describe, expectTypeOf, it } from 'vitest'
import { fromModule, Future, ThreadPoolExecutor, wait, type TaskRef } from 'concurrent-futures'

const tasks = fromModule<typeof import('./fixtures/tasks.js')>(new URL('./fixtures/tasks.ts', import.meta.url))
const ex = new ThreadPoolExecutor()

describe('the types users rely on', () => {
  it('infers argument and result types from a module reference', () => {
    expectTypeOf(tasks.add).toEqualTypeOf<TaskRef<(a: number, b: number) => number>>()
    expectTypeOf(ex.submit(tasks.add, 1, 2)).toEqualTypeOf<Future<number>>()
    expectTypeOf(ex.submit(tasks.sleep, 5)).toEqualTypeOf<Future<unknown>>()
    expectTypeOf(ex.submit(tasks.thread).result()).toEqualTypeOf<{ threadId: number; name: string | undefined }>()
    // @ts-expect-error a string is not a number
    ex.submit(tasks.add, 1, '2')
    // @ts-expect-error too few arguments
    ex.submit(tasks.add, 1)
    // @ts-expect-error not an exported function
    void tasks.nothing
  })

  it('infers from inline functions, unwrapping promises', () => {
    expectTypeOf(ex.submit((s: string) => s.length, 'abc')).toEqualTypeOf<Future<number>>()
    expectTypeOf(ex.submit(async (n: number) => [n], 1)).toEqualTypeOf<Future<number[]>>()
    // @ts-expect-error wrong argument type
    ex.submit((s: string) => s.length, 3)
  })

  it('types map over several iterables, with options last', () => {
    const results = ex.map(tasks.add, [1, 2], [3, 4], { chunksize: 2 })
    for (const value of results) expectTypeOf(value).toEqualTypeOf<number>()
    // @ts-expect-error strings are not numbers
    ex.map(tasks.add, ['1'], [2])
  })

  it('keeps futures covariant and awaitable', () => {
    const f: Future<unknown> = ex.submit(tasks.add, 1, 2)
    expectTypeOf(wait([f]).done).toEqualTypeOf<Set<Future<unknown>>>()
    const mixed = wait([ex.submit(tasks.add, 1, 2), ex.submit((s: string) => s, 'a')])
    expectTypeOf(mixed.done).toEqualTypeOf<Set<Future<number> | Future<string>>>()
    expectTypeOf<Awaited<Future<string>>>().toEqualTypeOf<string>()
  })
})
