// Errors cross threads as plain records: structured clone keeps only the
// built-in classes, message and stack, and drops own properties and `cause`.

export interface EncodedError {
  name: string
  message: string
  stack: string | undefined
  props: Record<string, unknown>
  cause?: EncodedValue
  hasCause: boolean
}

/** A thrown value: an Error, or anything else that was thrown. */
export type EncodedValue = { error: EncodedError } | { value: unknown }

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
}

export function encodeThrown(thrown: unknown, depth = 0): EncodedValue {
  if (!(thrown instanceof Error)) {
    try {
      return { value: structuredClone(thrown) }
    } catch {
      return { value: String(thrown) }
    }
  }
  const props: Record<string, unknown> = {}
  for (const key of Object.keys(thrown)) {
    if (key === 'cause') continue
    try {
      props[key] = structuredClone((thrown as unknown as Record<string, unknown>)[key])
    } catch {
      props[key] = String((thrown as unknown as Record<string, unknown>)[key])
    }
  }
  const hasCause = 'cause' in thrown && depth < 16
  return {
    error: {
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
      props,
      hasCause,
      ...(hasCause ? { cause: encodeThrown(thrown.cause, depth + 1) } : {}),
    },
  }
}

/**
 * Re-creates a thrown value. Built-in classes come back as themselves; other
 * errors as an Error with the original `name`. `submitStack` (the frames of
 * the submit call) is appended, so both sides of the trip show.
 */
export function decodeThrown(encoded: EncodedValue, submitStack?: string): unknown {
  if ('value' in encoded) return encoded.value
  const { name, message, stack, props, hasCause, cause } = encoded.error
  const Ctor = builtins[name] ?? Error
  const error = new Ctor(message, hasCause && cause ? { cause: decodeThrown(cause) } : undefined)
  if (error.name !== name) Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true })
  Object.assign(error, props)
  const frames = submitStack?.slice(submitStack.indexOf('\n') + 1)
  error.stack = frames ? `${stack ?? `${name}: ${message}`}\n    --- submitted from ---\n${frames}` : stack
  return error
}
