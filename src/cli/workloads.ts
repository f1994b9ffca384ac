// What `concurrent-futures bench` can run: the built-in workloads (in
// workers/bench-workloads.ts) with arguments that take a few ms each.

export interface Workload {
  name: string
  /** The module URL the workers import. */
  module: string
  exportName: string
  args: unknown[]
  /** Default tasks per round. */
  tasks: number
}

const module = new URL('../../workers/bench-workloads.js', import.meta.url).href

export const BUILT_IN: Record<string, Workload> = {
  fib: { name: 'fib', module, exportName: 'fib', args: [27], tasks: 100 },
  hash: { name: 'hash', module, exportName: 'hash', args: [64], tasks: 100 },
  gzip: { name: 'gzip', module, exportName: 'gzip', args: [256], tasks: 100 },
  fs: { name: 'fs', module, exportName: 'fs', args: [16], tasks: 100 },
  sleep: { name: 'sleep', module, exportName: 'sleep', args: [10], tasks: 40 },
}
