// How a task's function travels to a worker, and the number that names it
// there once the worker has it.

/** A function exported from a module (imported by the worker), or a self-contained function's source. */
export type TaskSpec = { module: string; exportName: string } | { source: string }

/** Equal for equal specs only: the export name goes first, with its length, since a module URL may hold any character (a '#' fragment). */
export function specKey(spec: TaskSpec): string {
  return 'source' in spec ? `s:${spec.source}` : `m:${spec.exportName.length}:${spec.exportName}:${spec.module}`
}

/**
 * A pool's numbers for the functions it sends: the workers receive each
 * function's spec once, then only its number. Specs are looked up by
 * identity (specOf() gives one per function), so a task's function source is
 * read and hashed once, not at every dispatch; equal specs share a number.
 */
export class FunctionIds {
  readonly #bySpec = new WeakMap<TaskSpec, number>()
  readonly #byKey = new Map<string, number>()

  of(spec: TaskSpec): number {
    let id = this.#bySpec.get(spec)
    if (id !== undefined) return id
    const key = specKey(spec)
    id = this.#byKey.get(key)
    if (id === undefined) this.#byKey.set(key, (id = this.#byKey.size))
    this.#bySpec.set(spec, id)
    return id
  }
}
