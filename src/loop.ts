// concurrent-futures/loop: the event-loop side, Python's asyncio bridge.
// `wait` and `asCompleted` here take any awaitables and never block; the
// main entry's take concurrent Futures and block.

export { CancelledError, ExceptionGroup, InvalidStateError } from './loop/errors.js'
export { LoopFuture, type LoopDoneCallback, type LoopFutureState } from './loop/loop-future.js'
export { ensureFuture, wrapFuture, type WrapOptions } from './loop/wrap-future.js'
export { runInExecutor, runInExecutorWith, setDefaultExecutor, shutdownDefaultExecutor, toThread } from './loop/run-in-executor.js'
export { gather, type GatherOptions } from './loop/gather.js'
export { asCompleted, wait, type AsCompletedOptions, type DoneAndPending } from './loop/wait.js'
export { TaskGroup, withTaskGroup, type TaskGroupOptions, type TaskSource } from './loop/task-group.js'
export { Timeout, timeout, timeoutAt, withTimeout } from './loop/timeout.js'
export { shield, waitFor } from './loop/wait-for.js'
export { callAt, callLater, callSoon, Handle, sleep, time, TimerHandle } from './loop/timers.js'
export { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, type ReturnWhen } from './concurrent/wait.js'
export { TimeoutError } from './concurrent/errors.js'
