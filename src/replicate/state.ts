/**
 * Where a publisher stands: `<dataDir>/replication/<stream>.json`, the next
 * global sequence JetStream acknowledged. Written owner-only through a synced
 * temp file and a rename, so a crash leaves the old position or the new one,
 * never a torn file; a position behind the truth only means the publisher
 * re-checks the stream (see Publisher.resume), never that it loses events.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ReplicationError } from '../errors.js'
import { dirModeFor } from '../options.js'
import { writeAtomically } from '../projection/atomic-file.js'

export interface ReplicationState {
  /** Global sequence of the next event to publish (everything below was acknowledged). */
  next: bigint
  /** The stream the position belongs to. */
  stream: string
}

export class StateFile {
  readonly file: string

  constructor(
    dataDir: string,
    readonly stream: string,
    private readonly fileMode = 0o600,
  ) {
    // The stream name was checked (wire.ts): it cannot leave the directory.
    this.file = path.join(dataDir, 'replication', `${stream}.json`)
  }

  load(): bigint | undefined {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
    let saved: { next?: unknown; stream?: unknown }
    try {
      saved = JSON.parse(text) as typeof saved
    } catch {
      throw new ReplicationError(`${this.file} is not JSON: remove it to re-check the position against the stream`)
    }
    if (saved.stream !== this.stream || typeof saved.next !== 'string' || !/^\d+$/.test(saved.next)) {
      throw new ReplicationError(`${this.file} does not hold a position of stream ${this.stream}`)
    }
    return BigInt(saved.next)
  }

  save(next: bigint): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: dirModeFor(this.fileMode) })
    // Synced before the rename and the directory after it: the position survives a power loss with the log it names.
    writeAtomically(this.file, Buffer.from(JSON.stringify({ next: next.toString(), stream: this.stream })), this.fileMode)
  }
}
