import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { backends, sharedQueue } from './helpers.js'

const run = promisify(execFile)
const script = fileURLToPath(new URL('./fixtures/exit-script.ts', import.meta.url))

async function node(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = args.at(-1) === 'QueueExecutor' ? { ...process.env, REDIS_URL: sharedQueue().url, CF_QUEUE: sharedQueue().queue } : process.env
  return run(process.execPath, args, { timeout: 20_000, env })
}

describe.each(backends)('the process around a $name', ({ name, local }) => {
  it('stays up until queued work is done (B54)', async () => {
    const { stdout } = await node(['--import', 'tsx', script, 'pending-at-exit', name])
    expect(stdout.trim().split('\n').sort()).toEqual(['done 0', 'done 1', 'done 2'])
  })

  it('exits on its own when a pool is idle and never shut down (B62)', async () => {
    const { stdout } = await node(['--import', 'tsx', script, 'forgotten', name])
    expect(stdout.trim()).toBe('result 42')
  })

  it('exits cleanly after shutdown without waiting and with cancelFutures (B63)', async () => {
    const { stdout, stderr } = await node(['--import', 'tsx', script, 'cancel-no-wait', name])
    expect(stdout.trim()).toBe('shut down')
    expect(stderr).toBe('')
  })

  it("accepts a submit from an 'exit' handler, whose blocking result() still arrives (unlike CPython, B55)", async () => {
    const { stdout } = await node(['--import', 'tsx', script, 'submit-at-exit', name])
    expect(stdout.trim()).toBe('result 42')
  })

  // A queue's workers print on their own machines.
  it.runIf(local)("shows the workers' console output on its own stdout", async () => {
    const { stdout } = await node(['--import', 'tsx', script, 'print', name])
    expect(stdout.trim()).toBe('printed by a worker')
  })
})

describe('the process around a pool', () => {
  it('can be required from CommonJS', async () => {
    const { stdout } = await node([fileURLToPath(new URL('./fixtures/require.cjs', import.meta.url))])
    expect(JSON.parse(stdout)).toEqual({ result: 42, isFuture: true })
  })
})
