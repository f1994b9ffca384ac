// The event loop's delay while CPU work runs: inline, and through
// runInExecutor on threads and on processes.

import type { Executor } from '../src/index.js'
import { runInExecutor } from '../src/loop.js'
import { offloadFigures } from './offload.js'
import { row } from './report.js'
import { fib } from './tasks.js'
import { tasks } from './workloads.js'

const TASKS = 32
const N = 30

export async function benchLoop(): Promise<void> {
  console.error('event loop: delay p99 during CPU work')
  const offloaded = (ex: Executor) => (): Promise<unknown> => Promise.all(Array.from({ length: TASKS }, () => runInExecutor(ex, tasks.fib, N)))
  const { blocked, viaThreads, viaProcesses } = await offloadFigures(TASKS, () => fib(N), offloaded)
  const name = `${TASKS} × fib(${N})`
  row(`loop: delay p99, runInExecutor on threads, ${name}`, viaThreads.p99, blocked.p99, 'the same work inline', 'ms', 'far below inline')
  row(`loop: delay p99, runInExecutor on processes, ${name}`, viaProcesses.p99, blocked.p99, 'the same work inline', 'ms', 'far below inline')
}
