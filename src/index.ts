export {
  BrokenExecutor,
  BrokenProcessPool,
  BrokenThreadPool,
  CancelledError,
  DeadlockError,
  ExecutorShutdownError,
  FuturesError,
  InvalidStateError,
  JobLost,
  QueueFullError,
  QueueUnavailable,
  TimeoutError,
  WorkerLost,
  type LostJob,
  type WorkerExit,
} from './concurrent/errors.js'
export { Future, type FutureState } from './concurrent/future.js'
export { MAX_PRIORITY, MAX_WORKERS } from './concurrent/validate.js'
export { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, asCompleted, wait, type DoneAndNotDone, type ReturnWhen } from './concurrent/wait.js'
export { Executor, type ShutdownOptions, type SubmitOptions } from './executors/executor.js'
export { MapResults, type MapOptions } from './executors/map.js'
export { ThreadPoolExecutor, type ThreadPoolOptions } from './executors/thread-pool.js'
export { ProcessPoolExecutor, type ProcessPoolOptions } from './executors/process-pool.js'
export type { PoolOptions } from './executors/pool-options.js'
export type { AutoscaleOptions } from './executors/autoscale.js'
export { fromModule, taskRef, type AnyFn, type ArgsOf, type ModuleTasks, type ProgressOf, type ProgressReporter, type ResultOf, type Task, type TaskRef } from './executors/task.js'
export type { ReturnOf, StreamFn, YieldOf } from './executors/task.js'
export type { TaskStream } from './executors/task-stream.js'
export { wrapSync, type AsyncModule } from './proxy/wrap-sync.js'
export { remote, withOptions, type CallOptions, type Made, type MakeArgs, type Remote } from './proxy/remote.js'
