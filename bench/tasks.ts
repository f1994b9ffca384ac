// Workloads for the benchmark, loaded by our workers and by piscina's.
export function noop<T>(x: T): T {
  return x
}

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

/** Reports a counter as fast as it can for `ms` milliseconds; returns how many reports it made. */
export function reportFor(this: { reportProgress(value: number): void }, ms: number): number {
  const end = performance.now() + ms
  let n = 0
  while (performance.now() < end) this.reportProgress(n++)
  return n
}

/** reportFor() without the reports: the loop it runs, for reference. */
export function countFor(ms: number): number {
  const end = performance.now() + ms
  let n = 0
  while (performance.now() < end) n++
  return n
}

/** piscina calls the default export with the task. */
export default function piscinaTask(task: { fn: 'noop' | 'fib'; arg: number }): number {
  return task.fn === 'fib' ? fib(task.arg) : task.arg
}

/** Yields 0 .. n-1: the stream() row. */
export function* range(n: number): Generator<number, void> {
  for (let i = 0; i < n; i++) yield i
}
