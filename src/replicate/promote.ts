/**
 * promote: makes a replica the writer. With the stream's servers it first
 * applies everything the stream holds (so no acknowledged event is left
 * behind), then publishes a fence marker naming the new writer, expecting
 * the stream's last sequence it caught up to, and only then marks the store
 * 'primary' (with that writer identity). The old primary is fenced from
 * that moment: its next publish fails the expected-sequence check, and a
 * restarted one finds a fence that does not name it (E_FENCED).
 */
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import { InvalidArgumentError, ReplicationError } from '../errors.js'
import { checkOptions, optionKeys } from '../strict.js'
import { openReplica } from './replica.js'
import { readRole, writeRole } from './role.js'

export interface PromoteOptions {
  dataDir: string
  /** The stream's servers: catch up with the stream before promoting (recommended). */
  servers?: string | readonly string[]
  /** Milliseconds to wait for the catch-up. @defaultValue 60000 */
  timeoutMs?: number
}

export interface PromoteReport {
  dataDir: string
  stream: string
  /** The global sequence the new primary's first append gets. */
  next: bigint
  caughtUp: boolean
  /** The new primary's writer identity, named by the fence marker (undefined without servers: no fence). */
  writer?: string
}

const KEYS = optionKeys<PromoteOptions>()(['dataDir', 'servers', 'timeoutMs'])

export async function promote(options: PromoteOptions): Promise<PromoteReport> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('promote options must be an object')
  checkOptions('promote', options, KEYS)
  if (typeof options.dataDir !== 'string' || !fs.existsSync(options.dataDir)) throw new InvalidArgumentError('dataDir must be an existing replica directory')
  const role = readRole(options.dataDir)
  if (!role) throw new ReplicationError(`${options.dataDir} is not a replica (no replication/role.json)`)
  if (role.role === 'primary') throw new ReplicationError(`${options.dataDir} was promoted already`)
  let next: bigint
  let caughtUp = false
  const writer = randomUUID()
  const replica = options.servers === undefined ? undefined : await openReplica({ dataDir: options.dataDir, servers: options.servers, stream: role.stream })
  if (replica) {
    try {
      const timeout = options.timeoutMs ?? 60_000
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ReplicationError(`the replica did not catch up with stream ${role.stream} in ${timeout} ms`)), timeout)
      })
      try {
        next = await Promise.race([replica.fence(writer), late])
      } finally {
        clearTimeout(timer)
      }
      caughtUp = true
      replica.store.sync()
    } finally {
      await replica.close()
    }
  } else {
    next = -1n
  }
  writeRole(options.dataDir, 'primary', role.stream, 0o600, caughtUp ? writer : undefined)
  return { dataDir: options.dataDir, stream: role.stream, next, caughtUp, ...(caughtUp ? { writer } : {}) }
}
