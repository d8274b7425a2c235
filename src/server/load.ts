/**
 * fastify and its plugins, loaded on first use with require: causeway/server can be
 * imported where fastify (an optional peer dependency) is not installed,
 * and serve() then says what to install. This file's types mention no
 * fastify type, so the package's declarations compile without it.
 */
import { MissingDependencyError } from '../errors.js'
import { requireOptionalPeer } from '../optional-peer.js'

/** fastify's factory, typed loosely here; index.ts gives the instance its type. */
export type FastifyFactory = (options: Record<string, unknown>) => unknown

/** `load` is require, replaceable so a test can show what happens where fastify is not installed. */
export function loadFastify(load: (id: string) => unknown = require): FastifyFactory {
  const mod = requireOptionalPeer('fastify', 'causeway/server needs fastify, an optional peer dependency: npm install fastify@5', load)
  const f = (mod as { fastify?: unknown }).fastify ?? mod
  if (typeof f !== 'function') throw new MissingDependencyError('the fastify module found does not export a factory: install fastify@5', { dependency: 'fastify' })
  return f as FastifyFactory
}

/** The fastify plugins serve() may load, each only when its feature is on. */
export type PluginName = '@fastify/swagger' | '@fastify/rate-limit' | '@fastify/cors' | '@fastify/websocket'

/** A fastify plugin (an optional peer dependency), or MissingDependencyError naming it and the option that needs it. */
export function loadPlugin(id: PluginName, feature: string, load: (id: string) => unknown = require): unknown {
  const mod = requireOptionalPeer(id, `${feature} needs ${id}, an optional peer dependency: npm install ${id}`, load)
  return (mod as { default?: unknown }).default ?? mod
}
