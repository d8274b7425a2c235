// The CLI and the extension block: export writes occurredAtUs, tags and
// storedVersion; import keeps them (and keeps an event's original record
// time as its occurredAt); tail prints them.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store, type StoredEvent } from '../src/index.js'
import { cli, requireBuild } from './cli-helpers.js'
import { tempDir } from './helpers.js'

beforeAll(requireBuild)

const K = EventKind.custom(1, 1)
const at = new Coordinate('enrol:1', 'uni')

interface Seen {
  tags: string[]
  occurredAtUs: number
  hasOccurredAt: boolean
  timestampUs: number
  storedVersion: number
  payloadBytes: string
}
function seen(dir: string): Seen[] {
  const s = Store.open({ dataDir: dir, readOnly: true })
  try {
    return s.query(Region.entity('enrol')).map((e: StoredEvent) => ({
      tags: e.tags,
      occurredAtUs: e.occurredAtUs,
      hasOccurredAt: e.hasOccurredAt,
      timestampUs: e.timestampUs,
      storedVersion: e.storedVersion,
      payloadBytes: Buffer.from(e.payloadBytes).toString('hex'),
    }))
  } finally {
    s.close()
  }
}

/** Tagged, timed, plain, and a typed event stored at its type's version 3. */
function source(): string {
  const dir = tempDir('cli-evtime')
  const s = Store.open({ dataDir: dir })
  s.append(at, K, { n: 0 }, { tags: ['course:c1', 'student:s1'], occurredAt: Date.UTC(2020, 1, 3) + 0.123 })
  s.append(at, K, { n: 1 }, { tags: ['course:c1'] })
  s.append(at, K, { n: 2 })
  s.types.define('enrolled', { version: 3 })
  s.append(at, 'enrolled', { n: 3 }, { occurredAt: new Date(Date.UTC(2021, 5, 6)) })
  s.close()
  return dir
}

describe('causeway export | import with event time and tags', () => {
  it('keeps tags, occurredAtUs, storedVersion and payload bytes; an event without occurredAt keeps its original record time as one', () => {
    const src = source()
    const before = seen(src)
    expect(before.map((e) => e.storedVersion)).toEqual([1, 1, 1, 3])
    const file = path.join(tempDir('cli-evtime-out'), 'events.jsonl')
    const ex = cli(['export', src, '-o', file])
    expect(ex.code, ex.stderr).toBe(0)
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const enrol = lines.filter((l) => (l['coordinate'] as { entity: string }).entity === 'enrol:1')
    expect(enrol.map((l) => l['tags'])).toEqual([['course:c1', 'student:s1'], ['course:c1'], undefined, undefined])
    expect(enrol.map((l) => l['occurredAtUs'])).toEqual([before[0]!.occurredAtUs, undefined, undefined, before[3]!.occurredAtUs])
    expect(enrol.map((l) => l['storedVersion'])).toEqual([undefined, undefined, undefined, 3])

    const dst = path.join(tempDir('cli-evtime-dst'), 'copy')
    const im = cli(['import', file, dst, '--json'])
    expect(im.code, im.stderr).toBe(0)
    expect(JSON.parse(im.stdout)).toMatchObject({ imported: 4, occurredAtFromRecordTime: 2 })
    const after = seen(dst)
    expect(after.map((e) => e.tags)).toEqual(before.map((e) => e.tags))
    expect(after.map((e) => e.storedVersion)).toEqual([1, 1, 1, 3])
    expect(after.map((e) => e.payloadBytes)).toEqual(before.map((e) => e.payloadBytes))
    // Both times survive: the original event time, or the original record time as the event time.
    expect(after.map((e) => e.occurredAtUs)).toEqual(before.map((e) => (e.hasOccurredAt ? e.occurredAtUs : e.timestampUs)))
    expect(after.every((e) => e.hasOccurredAt)).toBe(true)
    after.forEach((e, i) => expect(e.timestampUs).toBeGreaterThanOrEqual(before[i]!.timestampUs))
    // And the imported tags are indexed.
    const t = Store.open({ dataDir: dst, readOnly: true })
    try {
      expect(t.readFiltered({ tags: ['course:c1'] }).map((e) => (e.payload as { n: number }).n)).toEqual([0, 1])
    } finally {
      t.close()
    }
  })

  it('refuses a line with a bad tag or stored version, naming the line', () => {
    const file = path.join(tempDir('cli-evtime-bad'), 'bad.jsonl')
    const dst = path.join(tempDir('cli-evtime-bad-dst'), 'copy')
    const line = (x: object) => JSON.stringify({ coordinate: { entity: 'a', scope: 's' }, kind: 4097, payload: 1, ...x })
    fs.writeFileSync(file, `${line({ tags: ['ok'] })}\n${line({ tags: ['bad\u0007'] })}\n`)
    const r = cli(['import', file, dst])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/line 2: .*control character/)
    fs.writeFileSync(file, `${line({ storedVersion: 0 })}\n`)
    expect(cli(['import', file, dst]).stderr).toMatch(/line 1: storedVersion must be an integer 1\.\.65535/)
  })

  it('accepts a hand-written occurredAt (ISO text) and tags', () => {
    const file = path.join(tempDir('cli-evtime-hand'), 'hand.jsonl')
    const dst = path.join(tempDir('cli-evtime-hand-dst'), 'copy')
    fs.writeFileSync(file, `${JSON.stringify({ coordinate: { entity: 'enrol:9', scope: 's' }, kind: 4097, payload: { x: 1 }, occurredAt: '2019-07-08T09:10:11.012Z', tags: ['t:1'] })}\n`)
    expect(cli(['import', file, dst]).code).toBe(0)
    const [e] = seen(dst)
    expect(e!.occurredAtUs).toBe(Date.parse('2019-07-08T09:10:11.012Z') * 1000)
    expect(e!.tags).toEqual(['t:1'])
  })
})

describe('causeway tail and the extension block', () => {
  it('prints occurred= and tags= for events that have them, and nothing new for plain events', () => {
    const src = source()
    const lines = cli(['tail', src, '--entity', 'enrol', '-n', '4']).stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/ 0x1001 occurred=2020-02-03T00:00:00\.000Z tags=\[course:c1,student:s1\] \{"n":0\}$/)
    expect(lines[1]).toMatch(/ 0x1001 tags=\[course:c1\] \{"n":1\}$/)
    expect(lines[2]).toMatch(/ enrol:1 @uni 0x1001 \{"n":2\}$/)
    expect(lines[3]).toMatch(/ enrolled occurred=2021-06-06T00:00:00\.000Z \{"n":3\}$/)
    const json = cli(['tail', src, '--entity', 'enrol', '-n', '4', '--json']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(json[0]).toMatchObject({ tags: ['course:c1', 'student:s1'], occurredAtUs: Date.UTC(2020, 1, 3) * 1000 + 123 })
    expect(json[2]).not.toHaveProperty('tags')
    expect(json[2]).not.toHaveProperty('occurredAtUs')
    expect(json[3]).toMatchObject({ type: 'enrolled', storedVersion: 3 })
  })

  it('walk prints them in its tree, and its --json nodes carry them', () => {
    const src = source()
    const r = cli(['walk', src, '0', '--no-chain'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/#0 enrol:1 @uni 0x1001 occurred=2020-02-03T00:00:00\.000Z tags=\[course:c1,student:s1\] [0-9a-f-]{36} /)
    const j = JSON.parse(cli(['walk', src, '0', '--json', '--no-chain']).stdout) as { nodes: Array<Record<string, unknown>> }
    expect(j.nodes[0]).toMatchObject({ tags: ['course:c1', 'student:s1'], occurredAtUs: Date.UTC(2020, 1, 3) * 1000 + 123 })
  })
})
