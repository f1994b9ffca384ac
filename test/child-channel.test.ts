// What a child sends its relay (src/wire/child-channel.ts): ours is read back as sent, nothing else is taken for ours.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { packFromChild, readFromChild } from '../src/wire/child-channel.js'
import type { FromWorker } from '../src/wire/protocol.js'

const id = fc.nat()
const error = fc.record({ value: fc.anything() })
const event = fc.oneof(
  fc.constant({ event: 'ready' as const }),
  fc.record({ event: fc.constant('started' as const), id }),
  fc.record({ event: fc.constant('progress' as const), id, value: fc.anything() }),
  fc.record({ event: fc.constant('items' as const), id, items: fc.array(fc.anything()) }),
  fc.record({ event: fc.constant('init-failed' as const), error }),
  fc.record({ event: fc.constant('exit' as const), code: fc.integer(), error: fc.option(error, { nil: undefined }), running: fc.option(id, { nil: undefined }) }, { requiredKeys: ['event', 'code'] }),
)
const results = fc.array(fc.tuple(id, fc.constantFrom(0, 1, 2), fc.anything())).map((rs) => rs.flat())
const batch = fc.record({ results, busyMs: fc.double({ min: 0, noNaN: true }) })

describe("a child's messages", () => {
  it('are read back as the child sent them, across its channel', () => {
    fc.assert(fc.property(fc.oneof(event, batch), (message: FromWorker) => {
      expect(readFromChild(structuredClone(packFromChild(message)))).toEqual(message)
    }))
  })

  it('anything else is not ours, and reading it never throws', () => {
    const untagged = fc.oneof(fc.anything(), fc.array(fc.anything()), event, batch.map(({ results, busyMs }) => [...results, busyMs]))
    fc.assert(fc.property(untagged, (value) => {
      expect(readFromChild(value)).toBeUndefined()
    }))
  })

  it('tagged, but not the shape of an event or a batch: not ours either', () => {
    const [, eventTag] = packFromChild({ event: 'ready' })
    const resultsTag = packFromChild({ results: [], busyMs: 0 }).at(-1)
    for (const wrong of [null, 'ready', { event: 'exit' }, { event: 'started', id: '1' }, { event: 'items', id: 1, items: 'x' }, { event: 'toString' }, { event: 'init-failed' }]) {
      expect(readFromChild([wrong, eventTag])).toBeUndefined()
    }
    for (const wrong of [[], ['0'], [1, 0, 'x'], [1, 3, 'x', 0], ['1', 0, 'x', 0], [1, 0, 'x', 0, 0]]) {
      expect(readFromChild([...wrong, resultsTag])).toBeUndefined()
    }
  })
})
