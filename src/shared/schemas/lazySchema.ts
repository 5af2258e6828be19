/**
 * A schema built on its first use instead of when its module loads.
 *
 * Why: a zod (classic) schema defines dozens of methods on every instance it builds, and the app's shared schemas
 * (records, protocol, API, admin…) cost a phone's first screen a long task while the modules load (issue 6:
 * Lighthouse's Total Blocking Time measured ~300 ms of it at 4× CPU slowdown). Most of them are not needed to
 * show the first screen, and some never are on a given device, so each is built when something first reads it
 * (parses with it, or builds a bigger schema from it) and then serves every use.
 *
 * The proxy forwards every read and write to that one schema. zod's methods are closures over the schema itself
 * (not `this`), and zod checks kinds through `_zod` (not identity), so a lazy schema works wherever a schema does:
 * parse, extend, partial, z.infer, or nested in another schema.
 */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined
  const schema = (): T => (built ??= build())
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(schema(), key),
    set: (_, key, value) => Reflect.set(schema(), key, value),
    has: (_, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key)
      // A proxy may not report a property its (empty) target lacks as non-configurable.
      return descriptor && { ...descriptor, configurable: true }
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  })
}
