// Two processes define type names in one store at once (one the writer, the
// other its client): the compare-and-swap on the registry's clock gives every
// name one kind and no two names the same kind. A read-only open sees them.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../src/index.js'
import { tempDir } from './helpers.js'

const FIX = path.join(__dirname, 'fixtures', 'type-definer.cjs')

interface Out {
  role: string
  kinds: Record<string, number>
}

function definer(dir: string, id: number, go: string, onReady: () => void): Promise<Out> {
  const child = spawn(process.execPath, [FIX, dir, String(id), go], { stdio: ['ignore', 'pipe', 'inherit'] })
  let buf = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      if (buf.startsWith('ready\n')) {
        buf = buf.slice(6)
        onReady()
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`definer ${id} exited with ${code}`))
      else resolve(JSON.parse(buf.trim()) as Out)
    })
  })
}

describe('named types across processes', () => {
  it('gives two processes defining at once distinct, stable kinds, seen by a read-only open', async () => {
    const dir = tempDir()
    Store.open({ dataDir: dir }).close()
    const ro = Store.open({ dataDir: dir, readOnly: true })
    const go = path.join(tempDir('go'), 'go')
    let ready = 0
    const start = () => {
      if (++ready === 2) fs.writeFileSync(go, '')
    }
    const [a, b] = await Promise.all([definer(dir, 1, go, start), definer(dir, 2, go, start)])
    expect([a!.role, b!.role].sort()).toEqual(['client', 'writer'])
    for (let i = 0; i < 20; i++) expect(a!.kinds[`shared.${i}`]).toBe(b!.kinds[`shared.${i}`])
    const all = { ...a!.kinds, ...b!.kinds }
    expect(Object.keys(all)).toHaveLength(60)
    expect(new Set(Object.values(all)).size).toBe(60) // no two names share a kind

    ro.refresh()
    expect(Object.fromEntries(ro.types.list().map((t) => [t.name, t.kind.value]))).toEqual(all)
    const events = [...ro.stream('p1'), ...ro.stream('p2')]
    expect(events).toHaveLength(80)
    for (const e of events) expect(e.type).toBe((e.payload as { name: string }).name)
    ro.close()

    const again = Store.open({ dataDir: dir })
    for (const [name, kind] of Object.entries(all)) expect(again.types.define(name).value).toBe(kind)
    again.close()
  })
})
