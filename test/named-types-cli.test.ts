// The CLI prints type names where the store's registry defines them, takes
// them for --kind and --keep-kinds, and carries the registry through export
// and import.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store } from '../src/index.js'
import { cli, requireBuild, sh } from './cli-helpers.js'
import { segmentFiles, tempDir } from './helpers.js'

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
    for (const command of ['tail', 'export']) {
      // A name the store has not is the command line's mistake: exit 2, as for any usage error.
      const nope = cli([command, dir, '--kind', 'order.nope'])
      expect(nope.code, command).toBe(2)
      expect(nope.stderr).toContain('no type named order.nope in this store (its types: order.placed, order.shipped)')
    }
    expect(cli(['export', dir, '--kind', 'order.placed']).stdout.trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(['order.placed'])
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

/** Several small sealed segments: the registry first, then 40 orders placed, shipped and noted (kind 1:1). */
function typedShop(): string {
  const dir = tempDir('cli-types-compact')
  const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
  s.types.define('order.placed')
  s.types.define('order.shipped')
  for (let i = 1; i <= 40; i++) {
    const order = new Coordinate(`order:${i}`, 'shop')
    s.append(order, 'order.placed', { sku: `A-${i}`, pad: 'x'.repeat(40) })
    s.append(order, 'order.shipped', { carrier: 'post', pad: 'x'.repeat(40) })
    s.append(order, EventKind.custom(1, 1), { note: i })
  }
  s.close()
  return dir
}

function files(dir: string): Array<readonly [string, Buffer]> {
  return fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).map((f) => [f, fs.readFileSync(path.join(dir, f))] as const)
}

describe('causeway compact --keep-kinds with type names', () => {
  it('keeps the named types and numeric kinds listed, dropping the rest, and the registry with them', () => {
    const dir = typedShop()
    const dry = cli(['compact', dir, '--strategy', 'retention', '--keep-kinds', 'order.placed,1:*', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    // 40 shipped events are outside the list; the 2 registry entries are the store's own and stay.
    expect(JSON.parse(dry.stdout)).toMatchObject({ events: 122, wouldDrop: 40, wouldKeep: 82 })
    const r = cli(['compact', dir, '--strategy', 'retention', '--keep-kinds', 'order.placed,1:*', '--min-segments', '1', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).report.eventsDropped).toBeGreaterThan(0)
    const s = Store.open({ dataDir: dir, readOnly: true })
    const left = s.stream('order:1').map((e) => e.type ?? e.kind.toString())
    expect(left).toEqual(['order.placed', '0x1001']) // order:1 is in a sealed segment: its shipped event is gone
    expect(s.types.list().map((t) => t.name)).toEqual(['order.placed', 'order.shipped'])
    s.close()
    expect(cli(['tail', dir, '--entity', 'order:1']).stdout).toMatch(/order:1 @shop order\.placed /)
    expect(cli(['verify', dir]).code).toBe(0)
  })

  it('refuses a name the store has not as a usage error (exit 2) naming the types it has, changing nothing', () => {
    const dir = typedShop()
    const before = files(dir)
    for (const extra of [['--dry-run'], ['--min-segments', '1']]) {
      const r = cli(['compact', dir, '--strategy', 'retention', '--keep-kinds', 'order.placed,order.nope', ...extra])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('no type named order.nope in this store (its types: order.placed, order.shipped)')
    }
    for (const [f, bytes] of before) expect(fs.readFileSync(path.join(dir, f)).equals(bytes), f).toBe(true)
  })

  it('refuses a part that is neither a kind nor a type name as a usage error', () => {
    const r = cli(['compact', typedStore(), '--strategy', 'retention', '--keep-kinds', 'order placed'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/kind "order placed": write a packed value .* or a type name/)
  })

  it('never counts or drops the registry\'s entries, whatever rule would match them', () => {
    const dir = typedShop()
    const all = cli(['compact', dir, '--strategy', 'retention', '--drop-before', '2999-01-01', '--dry-run', '--json'])
    expect(JSON.parse(all.stdout)).toMatchObject({ events: 122, wouldDrop: 120 })
    const own = cli(['compact', dir, '--strategy', 'retention', '--drop-entity', '$causeway', '--drop-entity', '$causeway:types', '--dry-run', '--json'])
    expect(JSON.parse(own.stdout)).toMatchObject({ wouldDrop: 0 })
    const segments = segmentFiles(dir).length
    expect(cli(['compact', dir, '--strategy', 'retention', '--drop-before', '2999-01-01', '--min-segments', '1']).code).toBe(0)
    expect(segmentFiles(dir).length).toBeLessThanOrEqual(segments)
    const s = Store.open({ dataDir: dir, readOnly: true })
    expect(s.types.list().map((t) => t.name)).toEqual(['order.placed', 'order.shipped'])
    s.close()
    expect(cli(['stats', dir]).stdout).toMatch(/types\s+2: order\.placed=0xf000, order\.shipped=0xf001/)
  })
})

