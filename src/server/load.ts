/**
 * fastify and its plugins, loaded on first use with require: causeway/server can be
 * imported where fastify (an optional peer dependency) is not installed,
 * and serve() then says what to install. This file's types mention no
 * fastify type, so the package's declarations compile without it.
 */
import { MissingDependencyError } from '../errors.js'

/** fastify's factory, typed loosely here; index.ts gives the instance its type. */
export type FastifyFactory = (options: Record<string, unknown>) => unknown

/** `load` is require, replaceable so a test can show what happens where fastify is not installed. */
export function loadFastify(load: (id: string) => unknown = require): FastifyFactory {
  let mod: unknown
  try {
    mod = load('fastify')
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err?.code === 'MODULE_NOT_FOUND' && String(err.message).includes("'fastify'")) {
      throw new MissingDependencyError('causeway/server needs fastify, an optional peer dependency: npm install fastify@5', {
        dependency: 'fastify',
        cause: e,
      })
    }
    throw e
  }
  const f = (mod as { fastify?: unknown }).fastify ?? mod
  if (typeof f !== 'function') throw new MissingDependencyError('the fastify module found does not export a factory: install fastify@5', { dependency: 'fastify' })
  return f as FastifyFactory
}

/** The fastify plugins serve() may load, each only when its feature is on. */
export type PluginName = '@fastify/swagger' | '@fastify/rate-limit' | '@fastify/cors'

/** A fastify plugin (an optional peer dependency), or MissingDependencyError naming it and the option that needs it. */
export function loadPlugin(id: PluginName, feature: string, load: (id: string) => unknown = require): unknown {
  let mod: unknown
  try {
    mod = load(id)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err?.code === 'MODULE_NOT_FOUND' && String(err.message).includes(`'${id}'`)) {
      throw new MissingDependencyError(`${feature} needs ${id}, an optional peer dependency: npm install ${id}`, { dependency: id, cause: e })
    }
    throw e
  }
  return (mod as { default?: unknown }).default ?? mod
}
