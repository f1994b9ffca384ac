// Runs on a thread of each pool child: if the parent process dies while a
// task holds the child's main thread, nothing else would notice, and the
// child would outlive it. A thread can, since it only asks the OS who its
// parent is.

import { workerData } from 'node:worker_threads'

const parent = workerData as number
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL')
}, 200)
