// Which worker takes the next job (a job bound to a worker by a Pin skips
// this). Kept apart from the pool so the rule can be read, and tested, alone.

/** What the rule reads of a worker (a PoolMember). */
export interface Candidate {
  readonly jobs: { readonly size: number }
  /** How many jobs it may hold now. */
  readonly window: number
  /** Jobs it has been given in its life. */
  readonly assigned: number
  /** Remote objects living in it: it is not recycled while it holds any. */
  readonly pinned: { readonly size: number }
  readonly retiring: boolean
  /** How many of its jobs may be interrupted. */
  readonly interruptible: number
  /** How many of its jobs are streams. */
  readonly streams: number
}

export interface DispatchLimits {
  /** How many workers may take work: maxWorkers, or the autoscaler's target (workers past it are left to go idle). */
  workers: number
  /** A worker that has been given this many jobs takes no more (it is recycled once idle). */
  maxTasksPerWorker: number
  /**
   * Whether a worker holds tasks already claimed besides the one it runs (a
   * child process: its relay claims as it sends). Then a task that may be
   * interrupted travels alone, so stopping its worker costs no other task.
   */
  interruptAlone: boolean
}

/** Start a new worker for it. */
export const SPAWN = Symbol('spawn')

/**
 * The least loaded worker with room for a job (`interruptible`: it has a
 * timeout or a signal; `stream`: it is a stream); SPAWN while no worker is
 * idle and there is room for one more; undefined when it has to wait.
 *
 * A stream runs alone: it holds its worker for as long as its consumer
 * takes, which no job queued behind it should wait for. For the same reason
 * it avoids a worker holding remote objects: their calls would wait behind
 * it, and its consumer may be waiting on them. It rather waits for a worker
 * without any, even a busy one, if one will come free on its own (a worker
 * running a stream frees up only as its consumer reads, which may be the
 * consumer reading both streams together).
 */
export function pickWorker<M extends Candidate>(members: readonly M[], interruptible: boolean, limits: DispatchLimits, stream = false): M | typeof SPAWN | undefined {
  const alone = (limits.interruptAlone && interruptible) || stream
  const shunPinned = stream && freeWithoutPins(members, limits.workers)
  let best: M | undefined
  for (let i = 0; i < members.length && i < limits.workers; i++) {
    const member = members[i]!
    // A worker holding remote objects cannot be recycled, so its quota does not stop it taking work.
    const spent = member.assigned >= limits.maxTasksPerWorker && member.pinned.size === 0
    if (member.retiring || member.jobs.size >= member.window || spent) continue
    if (member.streams > 0 || (alone && member.jobs.size > 0) || (shunPinned && member.pinned.size > 0)) continue
    if (limits.interruptAlone && !alone && member.interruptible > 0) continue
    if (!best || member.jobs.size < best.jobs.size) best = member
  }
  if ((!best || best.jobs.size > 0) && members.length < limits.workers) return SPAWN
  return best
}

/** Whether a worker holding no remote objects is free, will come free without a consumer's help, or may start. */
function freeWithoutPins(members: readonly Candidate[], workers: number): boolean {
  if (members.length < workers) return true
  for (let i = 0; i < workers; i++) if (members[i]!.pinned.size === 0 && members[i]!.streams === 0) return true
  return false
}
