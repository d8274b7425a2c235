// The web console in a real browser: Debian's headless Chromium (installed
// by scripts/ensure-chromium.sh where missing) driven by playwright-core
// against a real serve() with tokens. Signs in with a read token and checks
// what each view shows: the event count, an event appended after the page
// opened in the live tail, the causal graph drawn by Graphviz (one SVG node
// per event) with the chain verified, and the segment list. Writes a
// screenshot to a temp dir (and docs/console.png). Heavy: run by
// `npm run test:full` (CAUSEWAY_BROWSER=1), not by `npm test`.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind } from '../src/index.js'
import { repoRoot } from './helpers.js'
import { served, TOKENS } from './server-helpers.js'

const K = EventKind.custom(1, 1)

/** The page's document, as the functions run in the browser see it (the test tsconfig has no DOM types). */
declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null; querySelectorAll(s: string): { length: number } }

/** Chromium's path, or why it cannot be had. */
function ensureChromium(): { path?: string; why?: string } {
  try {
    const out = execFileSync('sh', [path.join(repoRoot, 'scripts/ensure-chromium.sh')], { timeout: 330_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return { path: out.trim().split('\n').pop()! }
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    return { why: (err.stderr || err.message).trim() }
  }
}

const found = ensureChromium()
if (!found.path) console.warn(`SKIPPED console browser test: no chromium (${found.why})`)

describe.skipIf(!found.path)('web console in headless Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    // --no-sandbox: the test machine runs as root, where Chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: found.path!, args: ['--no-sandbox'], timeout: 60_000 })
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
  })

  it('shows the event count, tails a new event, draws the causal graph with its chain verified, and lists the segments', async () => {
    const s = await served()
    const { store } = s
    for (const t of ['OrderPlaced', 'OrderPaid', 'ParcelShipped', 'LateArrival']) store.types.define(t)
    const placed = store.append(new Coordinate('order:7', 'shop'), 'OrderPlaced', { total: 42 }, { tags: ['customer:9'] })
    const paid = store.append(new Coordinate('order:7', 'shop'), 'OrderPaid', { amount: 42 }, { causationId: placed.eventId })
    store.append(new Coordinate('parcel:7', 'depot'), 'ParcelShipped', { carrier: 'ups' }, { causationId: paid.eventId })
    for (let i = 0; i < 5; i++) store.append(new Coordinate(`order:${i}`, 'shop'), K, { i })
    const total = store.stats().events

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    // Failed requests, by path: only the sign-in probe before the token (401) and the SSE probe where no /v1/live exists (404) are expected.
    const failed = new Set<string>()
    page.on('response', (r) => { if (r.status() >= 400) failed.add(`${r.status()} ${new URL(r.url()).pathname}`) })
    try {
      await page.goto(`${s.server.url}/ui/`)
      await page.waitForSelector('#login:not([hidden]) #login-button:enabled')
      await page.fill('#token', TOKENS.reader)
      await page.click('#login-form button[type=submit]')

      // Overview: the stats, polled.
      await page.waitForSelector(`[data-stat="events"]:text-is("${total}")`)
      // The events chart gains a point per poll (a flat line has no height, so no visibility check).
      // Functions, not strings: the console's CSP refuses eval.
      await page.waitForFunction(() => (document.querySelector('figure.chart[data-chart="events"] polyline')?.getAttribute('points') ?? '').split(' ').length >= 2)

      // Live tail: the latest events, then one appended after the page opened.
      await page.click('nav a[data-view="tail"]')
      await page.waitForFunction((n) => document.querySelectorAll('#tail-rows tr').length === n, total)
      const late = store.append(new Coordinate('late:1', 'shop'), 'LateArrival', { late: true })
      await page.waitForSelector(`#tail-rows tr[data-event="${late.eventId}"]`)
      expect(await page.textContent('#tail-rows tr:first-child')).toContain('late:1')

      // Event page: fields, the causal graph as a Graphviz SVG (3 nodes), the chain verified.
      await page.goto(`${s.server.url}/ui/#/event/${paid.eventId}`)
      await page.waitForSelector('svg.causal-svg')
      expect(await page.locator('svg.causal-svg g.node').count()).toBe(3)
      expect(await page.locator('svg.causal-svg g.edge').count()).toBe(2)
      await page.waitForSelector('#verify[data-ok="true"]')
      expect(await page.textContent('#verify')).toContain('2 event(s) of order:7')
      expect(await page.textContent('[data-field="eventId"]')).toContain(paid.eventId)
      const shot = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-console-')), 'console-event.png')
      await page.mouse.move(1100, 880) // no hover highlight in the picture
      await page.screenshot({ path: shot, fullPage: true })
      console.log(`console screenshot: ${shot}`)
      fs.copyFileSync(shot, path.join(repoRoot, 'docs', 'console.png'))
      // Nodes are links: the cause opens its own page.
      await page.click(`svg.causal-svg g.node[data-event="${placed.eventId}"]`)
      await page.waitForSelector(`[data-field="eventId"]:has-text("${placed.eventId}")`)

      // Segments.
      await page.click('nav a[data-view="segments"]')
      await page.waitForSelector('#segments table tbody tr')
      expect(await page.locator('#segments table tbody tr').count()).toBe(store.diagnostics().segmentList.length)
      expect(pageErrors).toEqual([])
      expect([...failed].filter((f) => f !== '401 /health' && f !== '404 /v1/live')).toEqual([])
    } catch (e) {
      // What the page showed, for the failure report.
      console.error(`page errors: ${JSON.stringify(pageErrors)}, failed requests: ${JSON.stringify([...failed])}\npage text: ${(await page.textContent('body').catch(() => ''))?.slice(0, 2000)}`)
      throw e
    } finally {
      await context.close()
    }
  }, 120_000)
})
