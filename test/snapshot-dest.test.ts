// A snapshot into the store's own data directory (or the directory itself)
// would put a copy of the log inside the log: refused with
// InvalidArgumentError, by Store.snapshot, by the core, and by the CLI,
// writing nothing. Symlinks do not hide it.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store } from '../src/index.js'
import { cli } from './cli-helpers.js'
import { tempDir } from './helpers.js'

const Noted = EventKind.custom(1, 1)

/** A closed store in <base>/data with a few events. */
function store(): { base: string; dir: string } {
  const base = tempDir('snapdest')
  const dir = path.join(base, 'data')
  const s = Store.open({ dataDir: dir })
  for (let i = 0; i < 5; i++) s.append(new Coordinate(`e:${i}`, 's'), Noted, { i })
  s.close()
  return { base, dir }
}

/** Every path under `root`, so "nothing written" can be checked. */
function tree(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).sort()
}

function refusal(f: () => unknown): Error {
  try {
    f()
  } catch (e) {
    expect(isCausewayError(e, 'E_INVALID_ARGUMENT'), String(e)).toBe(true)
    return e as Error
  }
  throw new Error('not refused')
}

describe.runIf(process.platform !== 'win32')('snapshot destination', () => {
  it('refuses a destination inside or equal to the data directory, also through a symlink, writing nothing', () => {
    const { base, dir } = store()
    fs.symlinkSync(dir, path.join(base, 'alias'))
    const s = Store.open({ dataDir: dir })
    const before = tree(dir)
    const inside = [
      path.join(dir, 'inner'),
      path.join(dir, 'a', 'b', 'c'), // the nearest existing ancestor is the data directory
      dir,
      `${dir}/`,
      path.join(base, 'alias', 'inner'),
      path.join(base, 'alias'),
    ]
    for (const dest of inside) expect(refusal(() => s.snapshot(dest)).message, dest).toMatch(/inside the store's data directory|into the store itself/)
    expect(tree(dir)).toEqual(before)
    // A sibling sharing the name as a prefix is outside, and accepted.
    expect(s.snapshot(`${dir}-copy`).segments).toBeGreaterThan(0)
    s.close()
  })

  it('refuses it in the core too, for callers that skip Store.snapshot', () => {
    const { base, dir } = store()
    fs.symlinkSync(dir, path.join(base, 'alias'))
    const s = Store.open({ dataDir: dir })
    const before = tree(dir)
    for (const dest of [path.join(dir, 'inner'), path.join(base, 'alias', 'inner'), dir]) {
      expect(refusal(() => s.nativeHandle().snapshot(dest)).message, dest).toMatch(/inside the store's data directory/)
    }
    expect(tree(dir)).toEqual(before)
    s.close()
  })

  it('makes causeway snapshot refuse a destination inside the store as wrong usage, writing nothing', () => {
    const { dir } = store()
    const before = tree(dir)
    const r = cli(['snapshot', dir, path.join(dir, 'inner')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/inside the store's data directory/)
    expect(tree(dir)).toEqual(before)
  })
})
