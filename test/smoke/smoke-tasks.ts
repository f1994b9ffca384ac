// The tasks of the runtime smoke suite: plain enough for every runtime's own TypeScript.
export function add(a: number, b: number): number {
  return a + b
}

export function square(x: number): number {
  return x * x
}

export function exit(code: number): never {
  process.exit(code)
}

export async function where(): Promise<{ pid: number; threadId: number }> {
  const { threadId } = await import('node:worker_threads')
  return { pid: process.pid, threadId }
}
