// The task function handed to other pools by `bench --compare`: it loads the
// same module export our workers would, the same way, so only the pools differ.

import { specKey } from '../src/wire/task-spec.js'
import { loadTask } from './load-task.js'

export interface PeerTask { module: string; exportName: string; args: unknown[] }

const loaded = new Map<string, ReturnType<typeof loadTask>>()

export default async function runPeerTask({ module, exportName, args }: PeerTask): Promise<unknown> {
  const key = specKey({ module, exportName })
  let load = loaded.get(key)
  if (!load) loaded.set(key, (load = loadTask({ module, exportName })))
  return (await load)(...args)
}
