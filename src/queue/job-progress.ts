// A queue job's progress, from the task running in the worker's local pool
// to Redis (BullMQ's job.updateProgress, which adds a 'progress' event to
// the queue's events stream, read by the submitter's relay). One write at a
// time: values reported meanwhile coalesce, the newest kept.

import { checkJson } from './json.js'

export interface JobProgress {
  /** The onProgress callback of the job's local future. */
  report(value: unknown): void
  /** Resolves once the last value reported is in Redis (or failed to get there): the job's outcome is written after it. */
  written(): Promise<void>
}

/** `update` writes one value; `name` is the task's, for the message about a value that is not JSON. */
export function jobProgress(update: (value: unknown) => Promise<unknown>, name: string): JobProgress {
  let held: { value: unknown } | undefined
  let writing: Promise<void> | undefined
  let warned = false

  const write = async (): Promise<void> => {
    for (let next = held; next; next = held) {
      held = undefined
      await update(next.value).catch(() => {}) // Redis away, or the job gone: progress is not worth failing the job
    }
    writing = undefined
  }

  return {
    report(value) {
      const problem = notJson(value, `the progress value of ${name}`)
      if (problem) {
        // The task saw no error (its local pool carries structured clones): say it once, here.
        if (!warned) console.error(`concurrent-futures worker: ${problem}; such values are dropped`)
        warned = true
        return
      }
      held = { value }
      writing ??= write()
    },
    written: () => writing ?? Promise.resolve(),
  }
}

/** Why `value` cannot be a job's progress, if it cannot. */
function notJson(value: unknown, what: string): string | undefined {
  if (value === undefined) return `${what} is undefined, which BullMQ cannot write`
  try {
    checkJson(value, what)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}
