import * as fs from 'node:fs'
import * as path from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { DEFAULT_FILE_MODE, dirModeFor } from '../options.js'

const NAME_RE = /^[A-Za-z0-9._-]{1,128}$/

/**
 * A cursor's saved position: `<dataDir>/cursors/<name>.json`, replaced
 * atomically (temp file and rename). It is bound to the region it was made
 * for; a stale or lost file only means events are delivered again. Created
 * with the store's file mode (the directory with its execute bits).
 */
export class Checkpoint {
  readonly file: string
  private readonly region: string

  constructor(
    dataDir: string,
    name: string,
    region: string,
    private readonly fileMode: number = DEFAULT_FILE_MODE,
  ) {
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new InvalidArgumentError('checkpoint name must be 1..128 characters of A-Z a-z 0-9 . _ -')
    }
    this.file = path.join(dataDir, 'cursors', `${name}.json`)
    this.region = region
  }

  /** The saved position, or undefined when there is none (or it is unreadable). */
  load(): bigint | undefined {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch {
      return undefined
    }
    try {
      const saved = JSON.parse(text) as { position?: string; region?: string }
      if (saved.region !== this.region) {
        throw new InvalidArgumentError(
          `checkpoint ${path.basename(this.file, '.json')} belongs to region ${String(saved.region)}, not ${this.region}`,
        )
      }
      return saved.position === undefined ? undefined : BigInt(saved.position)
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw e
      return undefined
    }
  }

  save(position: bigint): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: dirModeFor(this.fileMode) })
    const tmp = `${this.file}.${process.pid}.tmp`
    // `mode` applies only when the file is created: a leftover temp file of a killed process is removed first.
    fs.rmSync(tmp, { force: true })
    fs.writeFileSync(tmp, JSON.stringify({ position: position.toString(), region: this.region }), { mode: this.fileMode })
    fs.renameSync(tmp, this.file)
  }
}
