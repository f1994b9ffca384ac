// The batch layout (src/wire/batches.ts): what is packed is what is read back.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  copyTask, dropTasks, packResults, packTasks, pushResult, pushTask, resultCount, resultId, resultPayload, resultStatus, setResult, taskArgs,
  taskCount, taskFlags, taskFn, taskId, taskSlot, unpackResults, unpackTasks, type TaskBatch,
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

  // A child's channel clones them (serialization 'advanced'); 'json' keeps arrays and numbers as they are.
  it('cross a child process channel packed and read back the same; packing leaves the batch as it was', () => {
    const spec = fc.oneof(fc.record({ module: fc.string(), exportName: fc.string() }), fc.record({ source: fc.string() }))
    const taskBatch = fc.record({ tasks: fc.array(task), defs: fc.option(fc.array(fc.tuple(fc.nat(), spec), { minLength: 1 }), { nil: undefined }) })
    fc.assert(fc.property(taskBatch, fc.array(result), fc.double({ min: 0, noNaN: true }), (specs, resultSpecs, busyMs) => {
      const batch: TaskBatch = { tasks: [], ...(specs.defs ? { defs: specs.defs } : {}) }
      for (const t of specs.tasks) pushTask(batch.tasks, t.id, t.slot, t.fnId, t.args, t.flags)
      const sent = structuredClone(batch)
      expect(unpackTasks(structuredClone(packTasks(batch)))).toEqual(sent)
      expect(batch).toEqual(sent)

      const results: unknown[] = []
      for (const r of resultSpecs) pushResult(results, r.id, r.status, r.payload)
      const kept = structuredClone(results)
      expect(unpackResults(structuredClone(packResults({ results, busyMs })))).toEqual({ results: kept, busyMs })
      expect(results).toEqual(kept) // a batch that failed to send is sent again (task-runner.ts)
    }))
  })
})
