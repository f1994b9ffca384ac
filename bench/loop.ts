// The event loop's delay while CPU work runs: inline, and through
// runInExecutor on threads and on processes.

import { ProcessPoolExecutor, ThreadPoolExecutor, type Executor } from '../src/index.js'
import { runInExecutor } from '../src/loop.js'
import { timedWithDelay } from './measure.js'
import { row } from './report.js'
import { fib } from './tasks.js'
import { tasks, WORKERS } from './workloads.js'

const TASKS = 32
const N = 30

/** Each task in its own macrotask, as a server handling requests would run it. */
function inline(): Promise<void> {
  return new Promise((resolve) => {
    let left = TASKS
    const next = (): void => {
      fib(N)
      if (--left === 0) resolve()
      else setImmediate(next)
    }
    setImmediate(next)
  })
}

const offloaded = (ex: Executor) => (): Promise<unknown> => Promise.all(Array.from({ length: TASKS }, () => runInExecutor(ex, tasks.fib, N)))

export async function benchLoop(): Promise<void> {
  console.error('event loop: delay p99 during CPU work')
  const threads = new ThreadPoolExecutor({ maxWorkers: WORKERS })
  const processes = new ProcessPoolExecutor({ maxWorkers: WORKERS })
  await offloaded(threads)()
  await offloaded(processes)()
  const blocked = await timedWithDelay(3, inline)
  const viaThreads = await timedWithDelay(3, offloaded(threads))
  const viaProcesses = await timedWithDelay(3, offloaded(processes))
  const name = `${TASKS} × fib(${N})`
  row(`loop: delay p99, runInExecutor on threads, ${name}`, viaThreads.p99, blocked.p99, 'the same work inline', 'ms', 'far below inline')
  row(`loop: delay p99, runInExecutor on processes, ${name}`, viaProcesses.p99, blocked.p99, 'the same work inline', 'ms', 'far below inline')
  await Promise.all([threads.shutdown(), processes.shutdown()])
}
