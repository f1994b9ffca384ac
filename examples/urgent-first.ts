// Urgent tasks jump a backlog: a priority orders the tasks waiting for a worker.  node --import tsx examples/urgent-first.ts
import { ThreadPoolExecutor } from 'concurrent-futures'

/** Stands for a thumbnail, a report, an export: `ms` of work. */
function render(ms: number): number {
  const end = Date.now() + ms
  let spins = 0
  while (Date.now() < end) spins++
  return spins
}

// Lower runs first. 0, the default, is the most urgent: background work is the work given a number.
const BACKGROUND = 10

await using pool = new ThreadPoolExecutor({ maxWorkers: 2 })
const backlog = Array.from({ length: 40 }, () => pool.submitWith({ priority: BACKGROUND }, render, 20))
await new Promise((resolve) => setTimeout(resolve, 50))

// A user waits for these: they start as soon as a worker is free, after only the few tasks the
// workers already hold (a task handed to a worker is not overtaken).
const urgent = Array.from({ length: 3 }, () => pool.submit(render, 20))
await Promise.all(urgent)
const unfinished = backlog.filter((task) => !task.done()).length
console.log(`${urgent.length} urgent tasks done before ${unfinished} of the ${backlog.length} background tasks`)
