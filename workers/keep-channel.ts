// The IPC channel of a pool's child is the pool's (src/wire/child-channel.ts),
// but task code finds process.send on it, and code written for fork(), cluster
// or pm2 calls it whenever it exists (pm2's process.send('ready')). So the
// child entry keeps the channel's send for itself and gives tasks their own,
// which drops what it is given, with one warning: nothing on the other side
// listens for it.
//
// The channel also keeps the child alive between tasks, so a task's
// process.channel.unref() (code written for fork() calls it, so as not to
// hold its process open) is ignored: idle, the child would exit, and the
// pool would take that for a death. Node's own counting of the channel's
// listeners uses other methods.
//
// process.disconnect() stays Node's: Node calls it too, as it reads the end
// of the channel the pool closed, and a replacement cannot tell that call
// from a task's. A task that calls it loses its child, as any child that ends.

type Send = NonNullable<typeof process.send>

/** Takes the channel's send, and its unref(), from task code; returns the send. */
export function keepChannel(): Send {
  const send = process.send!.bind(process)
  if (process.channel) process.channel.unref = () => {}
  let warned = false
  process.send = (...args: unknown[]): boolean => {
    if (!warned) {
      process.emitWarning(
        'A task called process.send(): the IPC channel of a ProcessPoolExecutor child belongs to the pool, so what a task sends there is dropped (this warning is given once per child). To send values to the submitter while the task runs, use reportProgress().',
        'RuntimeWarning',
      )
    }
    warned = true
    // Code that waits for its message to be written must not wait forever.
    const callback = args.findLast((arg) => typeof arg === 'function') as ((error: null) => void) | undefined
    if (callback) process.nextTick(callback, null)
    return true
  }
  return send
}
