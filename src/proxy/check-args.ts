// Arguments for a worker are data: a function among them is refused where
// the call is made, not later in the pool.

/** Functions cannot cross to a worker: say so where the call is made, naming the argument. */
export function checkNoFunctions(args: unknown[], where: string): void {
  args.forEach((arg, i) => {
    const nested = arg !== null && typeof arg === 'object' && (Array.isArray(arg) || Object.getPrototypeOf(arg) === Object.prototype)
    const found = typeof arg === 'function' ? '' : nested ? Object.entries(arg).find(([, v]) => typeof v === 'function')?.[0] : undefined
    if (found === undefined) return
    const what = found === '' ? `argument ${i}` : `argument ${i}'s property '${found}'`
    throw new TypeError(`${where}: ${what} is a function, and functions (callbacks too) cannot be sent to a worker; pass data instead`)
  })
}
