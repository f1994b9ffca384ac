// What the machine did while the bench measured: CPU time of the whole machine
// (with hypervisor steal), of this process and its pool's children, and their
// memory. From /proc on Linux; elsewhere os.cpus() and no children, steal 0.

import { cpus } from 'node:os'
import { readdirSync, readFileSync } from 'node:fs'

/** CPU time in ms: the machine's busy, total and stolen time, and this process tree's own. */
export interface CpuSample { busy: number; total: number; steal: number; own: number }

const TICK_MS = 10 // USER_HZ is 100 on every Linux Node supports

export function cpuSample(): CpuSample {
  const own = ownCpuMs()
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number) as number[]
    const busy = user! + nice! + system! + irq! + softirq!
    return { busy: busy * TICK_MS, total: (busy + idle! + iowait! + steal!) * TICK_MS, steal: steal! * TICK_MS, own }
  } catch {
    let busy = 0
    let total = 0
    for (const { times } of cpus()) {
      busy += times.user + times.nice + times.sys + times.irq
      total += times.user + times.nice + times.sys + times.irq + times.idle
    }
    return { busy, total, steal: 0, own }
  }
}

export function cpuDelta(before: CpuSample, after: CpuSample): CpuSample {
  return { busy: after.busy - before.busy, total: after.total - before.total, steal: after.steal - before.steal, own: after.own - before.own }
}

export function addCpu(a: CpuSample, b: CpuSample): CpuSample {
  return { busy: a.busy + b.busy, total: a.total + b.total, steal: a.steal + b.steal, own: a.own + b.own }
}

export const NO_CPU: CpuSample = { busy: 0, total: 0, steal: 0, own: 0 }

/** Shares of the machine's CPU time used by other processes, and stolen by the hypervisor. */
export function busyShares(cpu: CpuSample): { otherCpuShare: number; stealShare: number } {
  if (cpu.total <= 0) return { otherCpuShare: 0, stealShare: 0 }
  return { otherCpuShare: Math.max(0, cpu.busy - cpu.own) / cpu.total, stealShare: cpu.steal / cpu.total }
}

/** The machine was busy with other work: what was seen, for stderr and the JSON; empty when it was quiet. */
export function busyWarnings(cpu: CpuSample): string[] {
  const { otherCpuShare, stealShare } = busyShares(cpu)
  const warnings: string[] = []
  if (otherCpuShare > 0.15) warnings.push(`the machine was busy: other processes used ${(otherCpuShare * 100).toFixed(0)} % of its CPU while the bench measured, so the figures are noisy`)
  if (stealShare > 0.05) warnings.push(`the machine was busy: the hypervisor stole ${(stealShare * 100).toFixed(0)} % of the CPU time, so the figures are noisy`)
  return warnings
}

/** This process (all its threads) and its children, ms of CPU. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage()
  let ticks = 0
  for (const pid of children()) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
    } catch {
      // the child exited meanwhile
    }
  }
  return (user + system) / 1000 + ticks * TICK_MS
}

function children(): string[] {
  try {
    return readdirSync('/proc/self/task').flatMap((thread) => readFileSync(`/proc/self/task/${thread}/children`, 'utf8').split(' ').filter(Boolean))
  } catch {
    return [] // not Linux
  }
}

/** Resident memory of this process and its children, bytes. */
export function treeRss(): number {
  let bytes = process.memoryUsage.rss()
  for (const pid of children()) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (match) bytes += Number(match[1]) * 1024
    } catch {
      // the child exited meanwhile
    }
  }
  return bytes
}
