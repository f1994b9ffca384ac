// What the soak asks of the OS (Linux /proc) and of Node: which processes are
// alive, whose children they are, and which handles keep this process alive.

import { readdirSync, readFileSync } from 'node:fs'

interface Proc {
  pid: number
  ppid: number
  state: string
}

function processes(): Proc[] {
  const found: Proc[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      found.push({ pid: Number(name), ppid: Number(ppid), state: state! })
    } catch {
      // It ended while we looked.
    }
  }
  return found
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** This process's pool children that are still alive (zombies count: nobody reaped them). */
export function poolChildren(): number[] {
  return processes().filter((p) => p.ppid === process.pid && cmdline(p.pid).includes('process-child')).map((p) => p.pid)
}

/** Every process (any parent) whose environment carries `marker`, which only a soak run's processes do. */
export function markedProcesses(marker: string): number[] {
  return processes().filter((p) => {
    try {
      return readFileSync(`/proc/${p.pid}/environ`, 'utf8').includes(marker)
    } catch {
      return false
    }
  }).map((p) => p.pid)
}

/** Whether `pid` runs (a zombie no longer does: nothing may reap it in a container). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** The resources (by type) that keep the event loop alive, as a count per type. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/** What `now` holds beyond `baseline`, as "Type xN". */
export function extraResources(baseline: Map<string, number>, now = activeResources()): string[] {
  const extra: string[] = []
  for (const [type, count] of now) {
    const more = count - (baseline.get(type) ?? 0)
    if (more > 0) extra.push(`${type} x${more}`)
  }
  return extra
}

/** Polls `probe` until it returns an empty list or `ms` pass; returns its last answer. */
export async function settleList<T>(probe: () => T[], ms: number): Promise<T[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const left = probe()
    if (left.length === 0 || Date.now() > deadline) return left
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
