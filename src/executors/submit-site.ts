// Where submit() was called, so a task's error can show it below the
// worker's frames.

import { fileURLToPath } from 'node:url'

const ownFrames = fileURLToPath(new URL('../', import.meta.url))

/** The site of a submit() not recorded (submitStacks: false). */
export const noSite = {}

/**
 * Captures where submit() was called. V8 formats the frames only if `.stack`
 * is read, which callerFrames() does when the task fails.
 */
export function submitSite(): { stack?: string } {
  const site = {}
  Error.captureStackTrace(site)
  return site
}

export function callerFrames(site: { stack?: string }): string | undefined {
  return site.stack?.split('\n').filter((line) => !line.includes(ownFrames)).join('\n')
}
