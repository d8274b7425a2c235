import * as fs from 'node:fs'
import * as path from 'node:path'
import { dirModeFor } from '../options.js'

/** `<dataDir>/projections`: created owner-only (the store's file mode) when missing. */
export function projectionsDir(dataDir: string, fileMode: number, create: boolean): string {
  const dir = path.join(dataDir, 'projections')
  if (create) fs.mkdirSync(dir, { recursive: true, mode: dirModeFor(fileMode) })
  return dir
}

/**
 * Replaces `file` with `bytes` so that a crash leaves the old or the new
 * content, never a mix: a temp file of this process, fsync, rename, fsync
 * of the directory (so the rename itself survives a power loss).
 */
export function writeAtomically(file: string, bytes: Uint8Array, fileMode: number): void {
  const tmp = `${file}.${process.pid}.tmp`
  // `mode` applies only when a file is created: a leftover temp file of a killed process goes first.
  fs.rmSync(tmp, { force: true })
  const fd = fs.openSync(tmp, 'wx', fileMode)
  try {
    fs.writeSync(fd, bytes)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  syncDir(path.dirname(file))
}

function syncDir(dir: string): void {
  if (process.platform === 'win32') return
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
