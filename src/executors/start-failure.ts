// The message a pool breaks with when one of its threads or processes cannot
// start. Under Node's permission model the refusal is an ERR_ACCESS_DENIED
// that names the API, not the flag that allows it: say the flag.

const ALLOW_FLAGS: Record<string, string> = {
  WorkerThreads: '--allow-worker',
  ChildProcess: '--allow-child-process',
}

export function startFailure(what: string, pool: string, error: unknown): string {
  const { code, permission } = (error ?? {}) as { code?: unknown; permission?: unknown }
  const flag = code === 'ERR_ACCESS_DENIED' && typeof permission === 'string' ? ALLOW_FLAGS[permission] : undefined
  const why = flag ? `: Node's permission model denies it (${String(permission)}); start node with ${flag}` : ''
  return `${what}${why}, the ${pool} is not usable anymore`
}
