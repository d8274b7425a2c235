/**
 * Loads an optional peer dependency (fastify and its plugins, Emmett) with
 * `load` (require, replaceable by tests): a missing package is a
 * MissingDependencyError with `message` and `dependency`; any other load
 * failure (the package is there but broken) is rethrown as it is.
 */
import { MissingDependencyError } from './errors.js'

export function requireOptionalPeer(id: string, message: string, load: (id: string) => unknown): unknown {
  try {
    return load(id)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err?.code === 'MODULE_NOT_FOUND' && String(err.message).includes(`'${id}'`)) {
      throw new MissingDependencyError(message, { dependency: id, cause: e })
    }
    throw e
  }
}
