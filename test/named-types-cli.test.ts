// The CLI prints type names where the store's registry defines them, takes
// them for --kind, and carries the registry through export and import.
import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store } from '../src/index.js'
import { cli, requireBuild, sh } from './cli-helpers.js'
import { tempDir } from './helpers.js'

beforeAll(requireBuild)

function typedStore(): string {
  const dir = tempDir('cli-types')
  const s = Store.open({ dataDir: dir })
  s.types.define('order.placed', { schema: { type: 'object', required: ['sku'] } })
  s.types.define('order.shipped')
  const order = new Coordinate('order:1', 'shop')
  s.append(order, 'order.placed', { sku: 'A-1' })
  s.append(order, EventKind.custom(1, 1), { unnamed: true })
  s.append(order, 'order.shipped', { carrier: 'post' })
  s.close()
  return dir
}

describe('CLI with named types', () => {
  it('prints names in tail, walk, stats and verify, and selects by name with --kind', () => {
    const dir = typedStore()
    const tail = cli(['tail', dir, '--entity', 'order'])
    expect(tail.code).toBe(0)
    expect(tail.stdout).toMatch(/order:1 @shop order\.placed \{"sku":"A-1"\}/)
    expect(tail.stdout).toMatch(/order:1 @shop 0x1001 /)
    expect(cli(['tail', dir, '--kind', 'order.shipped']).stdout.trim().split('\n')).toHaveLength(1)
    expect(cli(['tail', dir, '--kind', 'order.nope']).code).not.toBe(0)
    const id = JSON.parse(cli(['tail', dir, '--kind', 'order.shipped', '--json']).stdout.trim().split('\n')[0]!).eventId as string
    expect(cli(['walk', dir, id]).stdout).toMatch(/order:1 @shop order\.shipped /)
    const stats = cli(['stats', dir])
    expect(stats.stdout).toMatch(/types\s+2: order\.placed=0xf000, order\.shipped=0xf001/)
    expect(JSON.parse(cli(['stats', dir, '--json']).stdout).types).toEqual([
      { name: 'order.placed', kind: 0xf000, kindHex: '0xf000', fingerprint: expect.stringMatching(/^json-sha256:/) },
      { name: 'order.shipped', kind: 0xf001, kindHex: '0xf001', fingerprint: null },
    ])
    const verify = cli(['verify', dir])
    expect(verify.code).toBe(0)
    expect(verify.stdout).toMatch(/types\s+order\.placed=0xf000, order\.shipped=0xf001/)
  })

  it('carries the registry through export and import: the copy reads back the same names and kinds', () => {
    const dir = typedStore()
    const exported = cli(['export', dir])
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => l['type'])).toEqual([undefined, undefined, 'order.placed', undefined, 'order.shipped'])
    const copy = `${tempDir('cli-types-copy')}/copy`
    const imported = sh(`node bin/causeway export ${dir} | node bin/causeway import - ${copy} --json`)
    expect(imported.code).toBe(0)
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 3, typesDefined: 2, skippedReserved: 0 })
    const s = Store.open({ dataDir: copy })
    expect(s.stream('order:1').map((e) => [e.type, e.kind.value])).toEqual([
      ['order.placed', 0xf000],
      [undefined, 0x1001],
      ['order.shipped', 0xf001],
    ])
    expect(s.types.list().map((t) => t.fingerprint)).toEqual([expect.stringMatching(/^json-sha256:/), null])
    s.close()
  })
})
