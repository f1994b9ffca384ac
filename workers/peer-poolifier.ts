// poolifier's worker script for `bench --compare`. The function must be
// declared async: poolifier awaits only AsyncFunctions.
import { ThreadWorker } from 'poolifier'
import runPeerTask, { type PeerTask } from './peer-task.js'

export default new ThreadWorker(async (task?: PeerTask) => await runPeerTask(task!))
