import { type ChildProcess, spawn } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store, StoreLockedError } from '../src/index.js'
import { tempDir } from './helpers.js'

const HOLDER = path.join(__dirname, 'fixtures/lock-holder.cjs')

/** Starts a holder process; resolves with it and its first line ("ready" or "error CODE"). */
function hold(dir: string, mode: 'write' | 'read' | 'shared' = 'write'): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOLDER, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
    let buf = ''
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve({ child, line: buf.slice(0, nl) })
    })
    child.on('error', reject)
  })
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.on('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

describe('single writer per directory', () => {
  it('refuses a second open of the same directory in this process, under any spelling of its path', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    expect(() => Store.open({ dataDir: dir })).toThrow(StoreLockedError)
    expect(() => Store.open({ dataDir: path.join(dir, '..', path.basename(dir)) + '/' })).toThrow(StoreLockedError)
    expect(() => Store.open({ dataDir: dir, readOnly: true })).toThrow(StoreLockedError)
    s.close()
    Store.open({ dataDir: dir }).close()
  })

  it('refuses a writer while another process holds the directory, and frees it the moment that process is killed', async () => {
    const dir = tempDir()
    const { child, line } = await hold(dir)
    expect(line).toBe('ready')
    let err: unknown
    try {
      Store.open({ dataDir: dir, exclusive: true })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(StoreLockedError)
    expect((err as Error).message).toMatch(/another process/)
    await killed(child)
    const s = Store.open({ dataDir: dir })
    s.append(new Coordinate('a', 'b'), EventKind.custom(1, 1), 1)
    s.close()
  })

  it('lets a second exclusive process in only after this one closes', async () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const first = await hold(dir)
    expect(first.line).toBe('error E_STORE_LOCKED')
    s.close()
    const second = await hold(dir)
    expect(second.line).toBe('ready')
    await killed(second.child)
  })

  it('makes a second shared process a client of the writer, and an exclusive one fail, beside a writer', async () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    expect(s.stats().role).toBe('writer')
    const client = await hold(dir, 'shared')
    expect(client.line).toBe('ready client')
    // The client's watch connection is dialled by its own thread after open returns.
    for (let i = 0; i < 500 && s.stats().clients < 1; i++) await new Promise((r) => setTimeout(r, 10))
    expect(s.stats().clients).toBeGreaterThanOrEqual(1)
    const exclusive = await hold(dir, 'write')
    expect(exclusive.line).toBe('error E_STORE_LOCKED')
    await killed(client.child)
    s.close()
  })

  it('gives exactly one writer among racing exclusive opens from two processes', async () => {
    for (let round = 0; round < 10; round++) {
      const dir = tempDir()
      const [a, b] = await Promise.all([hold(dir), hold(dir)])
      const lines = [a.line, b.line].sort()
      expect(lines).toEqual(['error E_STORE_LOCKED', 'ready'])
      await Promise.all([killed(a.child), killed(b.child)])
    }
  })
})
