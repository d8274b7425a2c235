/**
 * A replicated store's role: `<dataDir>/replication/role.json`, owner-only,
 * replaced by rename. A replica (openReplica) writes 'replica'; promote
 * writes 'primary', after which openReplica refuses the directory: a
 * promoted store takes its own appends and no longer follows the stream.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ReplicationError } from '../errors.js'
import { dirModeFor } from '../options.js'

export type Role = 'replica' | 'primary'

export function roleFile(dataDir: string): string {
  return path.join(dataDir, 'replication', 'role.json')
}

export interface RoleRecord {
  role: Role
  stream: string
  /** A promoted store's writer identity, named by the fence marker promote published. */
  writer?: string
}

export function readRole(dataDir: string): RoleRecord | undefined {
  let text: string
  try {
    text = fs.readFileSync(roleFile(dataDir), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const v = JSON.parse(text) as { role?: unknown; stream?: unknown; writer?: unknown }
  if ((v.role !== 'replica' && v.role !== 'primary') || typeof v.stream !== 'string') {
    throw new ReplicationError(`${roleFile(dataDir)} does not name a role`)
  }
  return { role: v.role, stream: v.stream, ...(typeof v.writer === 'string' ? { writer: v.writer } : {}) }
}

export function writeRole(dataDir: string, role: Role, stream: string, fileMode = 0o600, writer?: string): void {
  const file = roleFile(dataDir)
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: dirModeFor(fileMode) })
  const tmp = `${file}.${process.pid}.tmp`
  fs.rmSync(tmp, { force: true })
  fs.writeFileSync(tmp, JSON.stringify({ role, stream, ...(writer ? { writer } : {}), at: new Date().toISOString() }), { mode: fileMode })
  fs.renameSync(tmp, file)
}
