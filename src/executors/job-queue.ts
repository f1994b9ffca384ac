// A pool's jobs waiting for a worker, lower priority first and in submit
// order within a priority (jobs a worker gave back included), and its bound
// (maxQueued). Each priority's jobs are a lane: an array read from a moving
// head, so taking a job is O(1) and a flood allocates nothing per job. The
// default priority, 0, is also the first: its lane is kept apart and read
// before the others, so tasks given no priority pay nothing for them. The
// other lanes holding jobs are found by priority in a map and kept in a
// binary heap, so even a priority per task costs O(log n). A job cancelled
// while it waits holds no room (maxQueued counts the live ones) but keeps its
// place until dispatch meets it, or until such jobs outnumber the live ones:
// then one sweep drops them all, so a cancel costs O(1) amortized.

import { QueueFullError } from '../concurrent/errors.js'
import type { Job } from './job.js'

/** The cleared slots a lane drops at once, when they are at least half of it: rarely, and in one copy. */
const COMPACT_AT = 1024
/** The fewest cancelled jobs swept out at once (when they also outnumber the live ones). */
const SWEEP_AT = 64

/** The waiting jobs of one priority, first in first out. */
class Lane {
  /** Before `#head`, the jobs given out: cleared, so a lane that never empties holds none of them. */
  #jobs: Array<Job | undefined> = []
  #head = 0

  constructor(readonly priority: number) {}

  get length(): number {
    return this.#jobs.length - this.#head
  }

  push(job: Job): void {
    this.#jobs.push(job)
  }

  peek(): Job | undefined {
    return this.#jobs[this.#head]
  }

  shift(): void {
    this.#jobs[this.#head++] = undefined
    if (this.#head === this.#jobs.length) {
      this.#jobs = []
      this.#head = 0
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#jobs.length) {
      this.#jobs.splice(0, this.#head)
      this.#head = 0
    }
  }

  /**
   * Puts jobs taken from this lane back (`jobs`: by id, which grows as jobs are submitted) in submit order.
   * The jobs waiting were submitted after the ones taken, except those put back before: so the merge
   * reads no further than those, and one copy inserts them all (a spread could overflow the stack).
   */
  putBack(jobs: Job[]): void {
    const merged: Job[] = []
    let i = this.#head
    for (const job of jobs) {
      while (i < this.#jobs.length && this.#jobs[i]!.id < job.id) merged.push(this.#jobs[i++]!)
      merged.push(job)
    }
    this.#jobs = merged.concat(this.#jobs.slice(i) as Job[]) // from #head on, none is cleared
    this.#head = 0
  }

  all(): Job[] {
    return this.#jobs.slice(this.#head) as Job[]
  }

  /** Drops the jobs that settled while they waited; gives how many it dropped. */
  dropSettled(): number {
    const waiting = this.all().filter((job) => job.waiting)
    const dropped = this.length - waiting.length
    this.#jobs = waiting
    this.#head = 0
    return dropped
  }
}

export class JobQueue {
  #first = new Lane(0)
  /** The lanes of the other priorities that hold jobs, by priority... */
  #lanes = new Map<number, Lane>()
  /** ...and as a binary heap, the lowest priority at the root. */
  #heap: Lane[] = []
  /** How many jobs the lanes other than #first hold. */
  #othersLength = 0
  #roomWaiters: Array<() => void> = []
  /** Jobs waiting whose futures are not done: what maxQueued bounds. */
  #live = 0
  /** Jobs that settled while they waited, still in their lanes. */
  #dead = 0

  constructor(readonly maxQueued: number) {}

  hasRoom(): boolean {
    return this.#live < this.maxQueued
  }

  /** `job`'s future settled: if it waited here (it was cancelled), it holds no room any more. */
  settled(job: Job): void {
    if (!job.waiting) return
    job.waiting = false
    this.#live--
    if (++this.#dead >= SWEEP_AT && this.#dead > this.#live) this.#dropSettled()
    this.wakeWaiters(true)
  }

  /** Throws QueueFullError when there is no room. */
  checkRoom(): void {
    if (this.hasRoom()) return
    throw new QueueFullError(`${this.maxQueued} tasks are already waiting for a worker (maxQueued): wait for some to start, with await whenRoom() or runInExecutor()`)
  }

  /** Resolves once wakeWaiters() runs (when there may be room, or the pool closed). */
  whenRoom(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve))
  }

  /** Wakes every whenRoom(); they check again, so more than fit may wake. `ifRoom`: only if there is room. */
  wakeWaiters(ifRoom = false): void {
    if (this.#roomWaiters.length === 0 || (ifRoom && !this.hasRoom())) return
    for (const resolve of this.#roomWaiters.splice(0)) resolve()
  }

  /** Jobs in the lanes, those cancelled while they waited and not swept yet included. */
  get length(): number {
    return this.#first.length + this.#othersLength
  }

  push(job: Job): void {
    job.waiting = true
    this.#live++
    if (job.priority === 0) return this.#first.push(job)
    this.#lane(job.priority).push(job)
    this.#othersLength++
  }

  /** The job to start next. */
  peek(): Job | undefined {
    return this.#first.peek() ?? this.#heap[0]?.peek()
  }

  /** Drops the job peek() gave. */
  shift(): void {
    const job = this.peek()!
    if (job.waiting) {
      job.waiting = false
      this.#live--
    } else this.#dead--
    if (this.#first.length > 0) return this.#first.shift()
    const lane = this.#heap[0]!
    lane.shift()
    this.#othersLength--
    if (lane.length === 0) this.#dropRoot()
  }

  /** Puts jobs taken back from workers in their place: at the head of their priority, in submit order. */
  putBack(jobs: Job[]): void {
    const byLane = new Map<Lane, Job[]>()
    for (const job of [...jobs].sort((a, b) => a.id - b.id)) {
      // One its user settled while a worker held it comes back as settled: it holds no room.
      job.waiting = !job.future.done()
      if (job.waiting) this.#live++
      else this.#dead++
      const lane = job.priority === 0 ? this.#first : this.#lane(job.priority)
      const group = byLane.get(lane)
      if (group) group.push(job)
      else byLane.set(lane, [job])
    }
    for (const [lane, group] of byLane) {
      lane.putBack(group)
      if (lane !== this.#first) this.#othersLength += group.length
    }
  }

  /** The jobs waiting, in order. */
  all(): Job[] {
    const others = [...this.#heap].sort((a, b) => a.priority - b.priority)
    return [this.#first, ...others].flatMap((lane) => lane.all())
  }

  /** Empties the queue, giving what it held. */
  takeAll(): Job[] {
    const jobs = this.all()
    for (const job of jobs) job.waiting = false
    this.#live = this.#dead = 0
    this.#first = new Lane(0)
    this.#lanes = new Map()
    this.#heap = []
    this.#othersLength = 0
    return jobs
  }

  /** Sweeps settled jobs out of every lane, and the emptied lanes out of the map and the heap. */
  #dropSettled(): void {
    this.#dead = 0
    this.#first.dropSettled()
    for (const lane of this.#heap) this.#othersLength -= lane.dropSettled()
    // Sorted by priority, the lanes left are a valid heap.
    this.#heap = this.#heap.filter((lane) => lane.length > 0).sort((a, b) => a.priority - b.priority)
    this.#lanes = new Map(this.#heap.map((lane) => [lane.priority, lane]))
  }

  /** The lane of `priority` (not 0), made if it holds no jobs yet. */
  #lane(priority: number): Lane {
    const found = this.#lanes.get(priority)
    if (found) return found
    const lane = new Lane(priority)
    this.#lanes.set(priority, lane)
    const heap = this.#heap
    let i = heap.push(lane) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]!.priority <= priority) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = lane
    return lane
  }

  /** The lowest lane is empty: out of the map and the heap. */
  #dropRoot(): void {
    const heap = this.#heap
    this.#lanes.delete(heap[0]!.priority)
    const last = heap.pop()!
    if (heap.length === 0) return
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= heap.length) break
      if (child + 1 < heap.length && heap[child + 1]!.priority < heap[child]!.priority) child++
      if (heap[child]!.priority >= last.priority) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
  }
}
