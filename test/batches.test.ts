// The batch layout (src/wire/batches.ts): what is packed is what is read back.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  copyTask, dropTasks, pushResult, pushTask, resultCount, resultId, resultPayload, resultStatus, setResult, taskArgs, taskCount, taskFlags,
  taskFn, taskId, taskSlot,
} from '../src/wire/batches.js'

const task = fc.record({ id: fc.nat(), slot: fc.nat(), fnId: fc.nat(), args: fc.array(fc.anything()), flags: fc.nat(7) })
const result = fc.record({ id: fc.nat(), status: fc.nat(2), payload: fc.anything() })

describe('task and result batches', () => {
  it('read back every task packed, copied or left after a drop, in order', () => {
    fc.assert(fc.property(fc.array(task), fc.nat(), (specs, cut) => {
      const tasks: unknown[] = []
      for (const t of specs) pushTask(tasks, t.id, t.slot, t.fnId, t.args, t.flags)
      const copy: unknown[] = []
      for (let k = 0; k < taskCount(tasks); k++) copyTask(tasks, k, copy)
      const dropped = Math.min(cut, specs.length)
      dropTasks(copy, dropped)
      const read = (from: unknown[]) => Array.from({ length: taskCount(from) }, (_, k) => ({
        id: taskId(from, k), slot: taskSlot(from, k), fnId: taskFn(from, k), args: taskArgs(from, k), flags: taskFlags(from, k),
      }))
      expect(read(tasks)).toEqual(specs)
      expect(read(copy)).toEqual(specs.slice(dropped))
    }))
  })

  it('read back every result packed, and one replaced', () => {
    fc.assert(fc.property(fc.array(result, { minLength: 1 }), fc.nat(), result, (specs, at, other) => {
      const results: unknown[] = []
      for (const r of specs) pushResult(results, r.id, r.status, r.payload)
      const k = at % specs.length
      setResult(results, k, other.status, other.payload)
      const expected = specs.map((r, i) => (i === k ? { ...r, status: other.status, payload: other.payload } : r))
      expect(Array.from({ length: resultCount(results) }, (_, i) => ({ id: resultId(results, i), status: resultStatus(results, i), payload: resultPayload(results, i) }))).toEqual(expected)
    }))
  })
})
