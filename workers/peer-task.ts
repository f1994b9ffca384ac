// The task function handed to other pools by `bench --compare`: it runs the
// same module export our workers would, so only the pools differ.

type Fn = (...args: unknown[]) => unknown
export interface PeerTask { module: string; exportName: string; args: unknown[] }

const loaded = new Map<string, Fn>()

export default async function runPeerTask({ module, exportName, args }: PeerTask): Promise<unknown> {
  const key = `${module}#${exportName}`
  let fn = loaded.get(key)
  if (!fn) loaded.set(key, (fn = ((await import(module)) as Record<string, Fn>)[exportName]!))
  return fn(...args)
}
