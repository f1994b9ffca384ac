// The same work inline, then offloaded to threads and to processes: times and event-loop delay of each.

import { ProcessPoolExecutor, ThreadPoolExecutor, type Executor } from '../src/index.js'
import { eachInItsOwnTurn, timedWithDelay } from './measure.js'
import { WORKERS } from './workloads.js'

type Figures = Awaited<ReturnType<typeof timedWithDelay>>

/** `count` calls of `inline`, each in its own turn, against `offloaded(executor)` on 2 threads and 2 processes (warmed up first). */
export async function offloadFigures(
  count: number,
  inline: () => void,
  offloaded: (ex: Executor) => () => Promise<unknown>,
): Promise<{ blocked: Figures; viaThreads: Figures; viaProcesses: Figures }> {
  const threads = new ThreadPoolExecutor({ maxWorkers: WORKERS })
  const processes = new ProcessPoolExecutor({ maxWorkers: WORKERS })
  try {
    await offloaded(threads)()
    await offloaded(processes)()
    return {
      blocked: await timedWithDelay(3, () => eachInItsOwnTurn(count, inline)),
      viaThreads: await timedWithDelay(3, offloaded(threads)),
      viaProcesses: await timedWithDelay(3, offloaded(processes)),
    }
  } finally {
    await Promise.all([threads.shutdown(), processes.shutdown()])
  }
}
