// What the queue's workers run, by name. The client imports it only for the types.
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}
