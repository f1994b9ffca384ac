// workerpool's worker script for `bench --compare`.
import workerpool from 'workerpool'
import runPeerTask from './peer-task.js'

workerpool.worker({ run: runPeerTask })
