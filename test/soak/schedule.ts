// A soak run's plan, drawn from its seed alone: the pool, and the steps (task
// submissions and faults) in order. The run process and the reporter both
// derive it from the seed, so a seed replays the run.

import { seededRandom } from '../seeded-random.js'
import { HOSTILE_NAMES, type ThrowKind } from './tasks.js'

export type PoolKind = 'thread' | 'process-break' | 'process-replace'

export interface PoolPlan {
  kind: PoolKind
  maxWorkers: number
  /** maxTasksPerWorker / maxTasksPerChild. */
  recycleAfter?: number
  maxQueued?: number
  interruptGraceMs: number
}

export type TaskPlan =
  | { do: 'value'; how: 'sync' | 'async' | 'block'; ms: number; value: unknown }
  | { do: 'throw'; kind: ThrowKind; message: string }
  | { do: 'exit'; code: number }
  | { do: 'throw-outside'; ms: number }
  | { do: 'oom' }
  | { do: 'hang'; how: 'check' | 'signal' | 'ignore'; stop: 'timeout' | 'abort'; ms: number }
  /** The `call`-th call (from 1) of a flood of un-awaited calls on one remote() object. */
  | { do: 'remote'; call: number }

export type Step = { wait: number } & (
  | { submit: TaskPlan; via: 'submit' | 'runInExecutor' }
  /** cancel() on these tasks (indexes in submission order). */
  | { cancel: number[] }
  /** Aborts the signal of this task. */
  | { abort: number }
  /** Makes a remote() object and floods it with `calls` un-awaited calls, one task each (they follow as 'remote' submits). */
  | { remote: number }
  /** SIGKILLs the `pick`-th live child (modulo their number). */
  | { kill: number }
  /** A blocking result(ms) on this task. */
  | { block: number; ms: number }
  | { shutdown: { cancelFutures: boolean } }
)

/** Faults a run can leave out (SOAK_WITHOUT), to look past a known defect that would mask the rest. */
export const OMITTABLE = ['hostile', 'maxQueued', 'kill', 'oom', 'remote'] as const
export type Omittable = (typeof OMITTABLE)[number]

export interface Schedule {
  seed: number
  without: readonly Omittable[]
  pool: PoolPlan
  steps: Step[]
  /** How the run ends if no step shut the pool down. */
  finalShutdown: { cancelFutures: boolean }
}

/** Throws every codec should carry, hostile to none. */
const PLAIN_THROW_KINDS: ThrowKind[] = ['error', 'range', 'custom', 'string', 'number', 'object']

const THROW_KINDS: ThrowKind[] = [
  'error', 'range', 'custom', 'aggregate', 'bigint-prop', 'hostile-cause',
  ...HOSTILE_NAMES.map((name) => `hostile-name:${name}` as const),
  'getter:message', 'getter:name', 'getter:stack', 'getter:cause', 'getter:prop',
  'string', 'number', 'object', 'object-with-function',
]

export function makeSchedule(seed: number, tasks: number, without: readonly Omittable[] = []): Schedule {
  const r = seededRandom(seed)
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1))
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!
  const kind = pick<PoolKind>(['thread', 'process-break', 'process-replace'])
  const pool: PoolPlan = {
    kind,
    maxWorkers: int(1, 3),
    interruptGraceMs: int(30, 300),
    ...(r() < 0.4 ? { recycleAfter: int(1, 12) } : {}),
    ...(r() < 0.35 && !without.includes('maxQueued') ? { maxQueued: int(1, 12) } : {}),
  }
  // A broken process pool refuses everything after its first fault: fewer faults there keep the run useful.
  const faultRate = kind === 'process-break' ? 0.04 : 0.14
  const steps: Step[] = []
  const hangs: number[] = []
  let submitted = 0
  let shutdownAt = r() < 0.5 ? int(Math.floor(tasks / 3), tasks) : -1
  // More calls than the pool has task slots (1,024 a worker): pinned calls must wait for one, not overrun them.
  let floodAt = r() < 0.15 && !without.includes('remote') ? int(0, tasks - 1) : -1
  while (submitted < tasks) {
    const wait = r() < 0.8 ? 0 : int(1, 25)
    if (submitted === shutdownAt) {
      steps.push({ wait, shutdown: { cancelFutures: r() < 0.5 } })
      shutdownAt = -1
      continue
    }
    if (submitted === floodAt) {
      const calls = int(1100, 2600)
      // A hang no abort ends would hold the object's worker (on a 1-worker pool, the only one) for good.
      for (const hang of hangs.splice(0)) steps.push({ wait: 0, abort: hang })
      steps.push({ wait, remote: calls })
      for (let call = 1; call <= calls; call++) steps.push({ wait: 0, submit: { do: 'remote', call }, via: 'submit' })
      submitted += calls
      floodAt = -1
      continue
    }
    const roll = r()
    if (roll < 0.05 && submitted > 0) {
      const count = int(1, Math.min(20, submitted))
      steps.push({ wait, cancel: Array.from({ length: count }, () => int(Math.max(0, submitted - 40), submitted - 1)) })
    } else if (roll < 0.07 && kind !== 'thread' && !without.includes('kill')) {
      steps.push({ wait, kill: int(0, 5) })
    } else if (roll < 0.09 && hangs.length > 0) {
      steps.push({ wait, abort: hangs.splice(int(0, hangs.length - 1), 1)[0]! })
    } else if (roll < 0.1 && submitted > 0) {
      steps.push({ wait, block: int(Math.max(0, submitted - 10), submitted - 1), ms: int(0, 150) })
    } else {
      const task = planTask(r, int, pick, kind, faultRate, without)
      if (task.do === 'hang' && task.stop === 'abort') hangs.push(submitted)
      steps.push({ wait, submit: task, via: pool.maxQueued !== undefined && r() < 0.6 ? 'runInExecutor' : 'submit' })
      submitted++
    }
  }
  return { seed, without, pool, steps, finalShutdown: { cancelFutures: r() < 0.3 } }
}

function planTask(
  r: () => number,
  int: (lo: number, hi: number) => number,
  pick: <T>(items: readonly T[]) => T,
  kind: PoolKind,
  faultRate: number,
  without: readonly Omittable[],
): TaskPlan {
  const roll = r()
  if (roll < faultRate) {
    const fault = r()
    if (fault < 0.35) return { do: 'exit', code: int(0, 3) }
    if (fault < 0.6) return { do: 'throw-outside', ms: int(0, 5) }
    if (fault < 0.75 && kind === 'thread' && !without.includes('oom')) return { do: 'oom' }
    return { do: 'hang', how: 'ignore', stop: r() < 0.5 ? 'timeout' : 'abort', ms: int(5, 60) }
  }
  if (roll < faultRate + 0.2) return { do: 'throw', kind: pick(without.includes('hostile') ? PLAIN_THROW_KINDS : THROW_KINDS), message: `soak ${int(0, 1e6)}` }
  if (roll < faultRate + 0.26) return { do: 'hang', how: pick(['check', 'signal'] as const), stop: r() < 0.5 ? 'timeout' : 'abort', ms: int(5, 60) }
  const how = pick(['sync', 'sync', 'async', 'block'] as const)
  return { do: 'value', how, ms: how === 'sync' ? 0 : int(0, 15), value: pick([int(0, 1e6), `v${int(0, 1e6)}`, { n: int(0, 99), list: [1, 2] }]) }
}

/** One line per step, to print with a failure. */
export function describeSchedule(schedule: Schedule): string {
  const { pool } = schedule
  const head = `seed ${schedule.seed}${schedule.without.length ? ` without ${schedule.without.join(',')}` : ''}: ${pool.kind} maxWorkers ${pool.maxWorkers}, grace ${pool.interruptGraceMs} ms` +
    (pool.recycleAfter ? `, recycle after ${pool.recycleAfter}` : '') + (pool.maxQueued ? `, maxQueued ${pool.maxQueued}` : '')
  let index = 0
  const lines = schedule.steps.flatMap((step) => {
    const wait = step.wait ? `+${step.wait}ms ` : ''
    // A flood's calls are told once, by its remote step.
    if ('submit' in step && step.submit.do === 'remote') return step.submit.call === 1 ? [`#${index++}.. the calls`] : (index++, [])
    if ('submit' in step) return `${wait}#${index++} ${step.via === 'submit' ? '' : 'runInExecutor '}${describeTask(step.submit)}`
    if ('cancel' in step) return `${wait}cancel ${step.cancel.map((i) => `#${i}`).join(' ')}`
    if ('abort' in step) return `${wait}abort #${step.abort}`
    if ('kill' in step) return `${wait}SIGKILL child ${step.kill}`
    if ('remote' in step) return `${wait}remote() object, then ${step.remote} calls on it`
    if ('block' in step) return `${wait}result(${step.ms}) of #${step.block}`
    return `${wait}shutdown${step.shutdown.cancelFutures ? ' cancelFutures' : ''}`
  })
  return [head, ...lines, `end: shutdown${schedule.finalShutdown.cancelFutures ? ' cancelFutures' : ''}`].join('\n')
}

export function describeTask(task: TaskPlan): string {
  switch (task.do) {
    case 'value': return `value ${task.how}${task.ms ? ` ${task.ms}ms` : ''}`
    case 'throw': return `throw ${task.kind}`
    case 'exit': return `process.exit(${task.code})`
    case 'throw-outside': return `throw outside after ${task.ms}ms`
    case 'oom': return 'allocate until OOM'
    case 'hang': return `hang (${task.how}) until ${task.stop === 'timeout' ? `timeoutMs ${task.ms}` : 'abort'}`
    case 'remote': return `remote call ${task.call}`
  }
}
