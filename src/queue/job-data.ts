// A worker reads a job's data from Redis, where anyone who can write to the
// queue may have put anything: it is checked before anything runs, and what
// does not fit fails the job at once, naming the field.

import { MAX_TIMER_MS, show } from '../concurrent/validate.js'
import type { JobData } from './protocol.js'

/** `data` as JobData, or throws a TypeError naming the first field that does not fit. */
export function checkJobData(data: unknown): JobData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TypeError(`the job's data must be an object { args, chunk?, timeoutMs? }, got ${show(data)}`)
  }
  const { args, chunk, timeoutMs, interrupt, lease } = data as Record<string, unknown>
  if (chunk !== undefined && chunk !== true) throw new TypeError(`data.chunk must be true or absent, got ${show(chunk)}`)
  if (!Array.isArray(args)) throw new TypeError(`data.args must be an array${chunk ? ' of argument arrays' : ' of arguments'}, got ${show(args)}`)
  if (chunk) {
    const bad = args.findIndex((one) => !Array.isArray(one))
    if (bad >= 0) throw new TypeError(`data.args[${bad}] must be an array (the arguments of one call of the chunk), got ${show(args[bad])}`)
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)) {
    throw new TypeError(`data.timeoutMs must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${show(timeoutMs)}`)
  }
  if (interrupt !== undefined && typeof interrupt !== 'string') throw new TypeError(`data.interrupt must be a string, got ${show(interrupt)}`)
  if (lease !== undefined && !(typeof lease === 'string' && /^[\w-]{1,100}$/.test(lease))) throw new TypeError(`data.lease must be a client id, got ${show(lease)}`)
  return data as JobData
}
