// Causal audit: walk an entity's hash chain back from an event, re-hashing
// each one, and verify every chain in the store.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, EventKind, Store } from 'causeway'

const Entry = EventKind.custom(1, 1)
const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-audit-')) })
const ledger = new Coordinate(`ledger:${store.stats().nextSequence}`, 'bank')

let last
for (let i = 1; i <= 5; i++) {
  last = store.append(ledger, Entry, { line: i, amount: i * 10 })
  store.append(new Coordinate('ledger:other', 'bank'), Entry, { line: i }) // another chain in between
}

const walk = store.walkAncestorsOutcome(last.eventId)
console.log(`walked ${walk.events.length} events back from clock ${last.clock}: stopped at ${walk.stopped}`)
console.log(`clocks newest first: ${walk.events.map((e) => e.clock).join(' ')}`)
const partial = store.walkAncestorsOutcome(last.eventId, 2)
console.log(`with limit 2: ${partial.events.length} events, stopped at ${partial.stopped}`)

const report = store.verifyChain()
console.log(
  `verified ${report.eventsChecked} events: ${report.contentMismatches.length} content mismatches, ${report.brokenLinks.length} broken links`,
)
store.close()
