/**
 * Admin routes: snapshot, compact and whole-store verification. A snapshot writes a directory, so
 * where it goes is never the caller's to choose freely: `dest` is a name
 * under the server's backupDir, resolved (symlinks included) and refused
 * if it would land anywhere else. Both run off the event loop
 * (snapshotAsync, compactAsync): other requests keep being served.
 */
import * as path from 'node:path'
import { ForbiddenError, InvalidArgumentError } from '../errors.js'
import { realish } from '../ops/snapshot-dest.js'
import { checkUnscoped } from './auth.js'
import { send } from './body.js'
import type { RouteTable } from './routes.js'
import { object, onlyKeys } from './wire.js'

/**
 * `dest` resolved under `backupDir`, or ForbiddenError: an absolute path,
 * `..`, or a symlink leading out are all refused, and so is backupDir itself.
 */
export function backupDestination(backupDir: string | undefined, dest: unknown): string {
  if (backupDir === undefined) throw new ForbiddenError('snapshots over the service need the server\'s backupDir option')
  if (typeof dest !== 'string' || dest.length === 0) throw new InvalidArgumentError('dest must be a directory name under the backup directory')
  const root = realish(path.resolve(backupDir))
  const target = realish(path.resolve(root, dest))
  const rel = path.relative(root, target)
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ForbiddenError(`snapshot dest ${JSON.stringify(dest)} is outside the backup directory`)
  }
  return target
}

export function adminRoutes(t: RouteTable): void {
  const { store } = t.ctx

  t.add('POST', '/v1/admin/snapshot', 'admin', async (req, reply) => {
    checkUnscoped(req, 'a snapshot')
    const o = object(req.body, 'the request body')
    onlyKeys(o, ['dest'], 'snapshot')
    const dest = backupDestination(t.ctx.backupDir, o.dest)
    const { path: _abs, ...report } = await store.snapshotAsync(dest)
    // The server's absolute path stays on the server: the caller named dest relative to backupDir.
    return send(req, reply, 200, { ...report, dest: path.relative(realish(path.resolve(t.ctx.backupDir!)), dest) })
  }, { tag: 'admin', summary: 'Writes a consistent snapshot of the store under the backup directory', body: '{ dest }: a directory name under the server\'s backupDir' })

  // { minSegments? }: the merge strategy only; retention and tombstone need
  // a keep() function, which is code, not data, and stays with embedded use.
  t.add('POST', '/v1/admin/compact', 'admin', async (req, reply) => {
    checkUnscoped(req, 'compaction')
    const o = req.body === undefined || req.body === null ? {} : object(req.body, 'the request body')
    onlyKeys(o, ['minSegments'], 'compact')
    const minSegments = typeof o.minSegments === 'bigint' ? Number(o.minSegments) : o.minSegments
    const report = await store.compactAsync({ strategy: 'merge', ...(minSegments !== undefined ? { minSegments: minSegments as number } : {}) })
    return send(req, reply, 200, report)
  }, { tag: 'admin', summary: 'Compacts the store (merge strategy)', body: '{ minSegments? }' })

  // The whole store's hash chains, off the event loop (verifyChainAsync pages between turns).
  t.add('POST', '/v1/admin/verify', 'admin', async (req, reply) => {
    checkUnscoped(req, 'verification')
    if (req.body !== undefined && req.body !== null) onlyKeys(object(req.body, 'the request body'), [], 'verify')
    return send(req, reply, 200, await store.verifyChainAsync())
  }, {
    tag: 'admin',
    summary: "Verifies every event's content hash and every entity's hash chain",
    description: 'Answers the ChainReport: { eventsChecked, contentMismatches, brokenLinks, missingParents, tombstones }; empty lists mean every chain holds.',
  })
}
