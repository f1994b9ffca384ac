import { inspect } from 'node:util'

/** Checks a count option (maxWorkers, chunksize, ...): undefined, or an integer of at least 1. */
export function positiveInteger(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer greater than 0, got ${inspect(value)}`)
  return value
}
