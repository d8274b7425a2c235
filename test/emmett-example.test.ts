// The Emmett example app (examples/emmett/cart.mjs) run twice on one data
// directory through the built package, and the CommonJS entry of
// causeway/emmett throwing the CommonJS build's ExpectedVersionConflictError
// (each module system gets its own Emmett's error classes), and the error
// naming Emmett where it is not installed.
import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

const node = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 })

describe('the Emmett example', () => {
  it('runs the cart app twice on one store: the second run continues and its projector resumes', () => {
    const data = tempDir('emmett-example')
    const first = node([path.join(repoRoot, 'examples/emmett/cart.mjs')], { CAUSEWAY_DATA: data })
    expect(first).toContain('run 1: shopping_cart-1 confirmed at version 4')
    expect(first).toContain('stale command refused: true')
    expect(first).toContain('revenue of shopping_cart-1: 17')
    const second = node([path.join(repoRoot, 'examples/emmett/cart.mjs')], { CAUSEWAY_DATA: data })
    expect(second).toContain('run 2: shopping_cart-2 confirmed at version 4')
    expect(second).toContain('revenue of shopping_cart-2: 17')
    expect(second).toContain('carts projected this run: 1') // resumed from its checkpoint, not from the start
  })

  it('throws the CommonJS Emmett error class from require("causeway/emmett")', () => {
    const data = tempDir('emmett-cjs')
    const script = `
      const em = require('@event-driven-io/emmett')
      const { getCausewayEventStore } = require('causeway/emmett')
      const es = getCausewayEventStore({ dataDir: process.env.D })
      es.appendToStream('s', [{ type: 'A', data: {} }], { expectedStreamVersion: em.STREAM_EXISTS })
        .catch((e) => console.log('cjs instanceof', e instanceof em.ExpectedVersionConflictError))
        .finally(() => es.close())`
    expect(node(['-e', script], { D: data })).toContain('cjs instanceof true')
  })

  it('names the package to install (E_MISSING_DEPENDENCY) where Emmett is not installed', () => {
    const script = `
      const { emmett } = require('./dist/cjs/emmett/peer.js')
      const gone = () => { const e = new Error("Cannot find module '@event-driven-io/emmett'"); e.code = 'MODULE_NOT_FOUND'; throw e }
      try { emmett(gone) } catch (e) { console.log(e.code, e.dependency, e.message) }`
    const out = node(['-e', script])
    expect(out).toContain('E_MISSING_DEPENDENCY @event-driven-io/emmett')
    expect(out).toContain('npm install @event-driven-io/emmett@^0.42.0')
  })
})
