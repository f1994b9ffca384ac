// Workloads for the benchmark, loaded by our workers and by piscina's.
export function noop<T>(x: T): T {
  return x
}

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

/** piscina calls the default export with the task. */
export default function piscinaTask(task: { fn: 'noop' | 'fib'; arg: number }): number {
  return task.fn === 'fib' ? fib(task.arg) : task.arg
}

/** Yields 0 .. n-1: the stream() row. */
export function* range(n: number): Generator<number, void> {
  for (let i = 0; i < n; i++) yield i
}
