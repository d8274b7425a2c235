/**
 * promote: makes a replica the writer. With the stream's servers it first
 * applies everything the stream holds (so no acknowledged event is left
 * behind), then marks the store 'primary'. From then on openReplica refuses
 * it and replicate() publishes its appends after the old primary's last
 * event; an old primary that comes back finds the stream moved on and is
 * fenced (E_FENCED).
 */
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
  const replica = options.servers === undefined ? undefined : await openReplica({ dataDir: options.dataDir, servers: options.servers, stream: role.stream })
  if (replica) {
    try {
      const timeout = options.timeoutMs ?? 60_000
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ReplicationError(`the replica did not catch up with stream ${role.stream} in ${timeout} ms`)), timeout)
      })
      try {
        await Promise.race([replica.catchUp(), late])
      } finally {
        clearTimeout(timer)
      }
      caughtUp = true
      replica.store.sync()
      next = BigInt(replica.store.nativeHandle().nextSequence())
    } finally {
      await replica.close()
    }
  } else {
    next = -1n
  }
  writeRole(options.dataDir, 'primary', role.stream)
  return { dataDir: options.dataDir, stream: role.stream, next, caughtUp }
}
