// Projections: fold an entity's events into a state, cached per store, and
// use the state's position to make a decision that no newer event can race.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppendConditionError, Coordinate, EventKind, Region, Store } from 'causeway'

const Deposited = EventKind.custom(1, 1)
const Withdrawn = EventKind.custom(1, 2)
const Noted = EventKind.custom(2, 1)

const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-projection-')) })
const account = new Coordinate(`account:${store.stats().nextSequence}`, 'bank')

const balance = {
  name: 'balance',
  version: 1,
  kinds: [Deposited, Withdrawn], // notes are not money
  init: () => 0,
  apply: (sum, e) => (e.kind.equals(Deposited) ? sum + e.payload.amount : sum - e.payload.amount),
}

const first = store.append(account, Deposited, { amount: 100 })
store.append(account, Noted, { text: 'opened at the branch' })
store.append(account, Withdrawn, { amount: 30 })
let r = store.project(account, balance)
console.log(`balance ${r.state} from ${r.eventsApplied} money events (cache hit: ${r.cacheHit})`)

store.append(account, Deposited, { amount: 25 })
r = store.project(account, balance)
console.log(`balance ${r.state}, applied ${r.eventsApplied} new event (cache hit: ${r.cacheHit})`)
console.log(`balance as of the first deposit: ${store.project(account, balance, { asOf: { sequence: first.globalSequence } }).state}`)

// Decide on the projected state; commit only if no event of the account came after it.
const withdraw = (amount, seen) =>
  store.appendIf([{ coord: account, kind: Withdrawn, payload: { amount } }], {
    failIfEventsMatch: Region.entity(account.entity),
    after: seen.position,
  })
if (r.state >= 50) console.log(`withdrawal committed at sequence ${withdraw(50, r)[0].globalSequence}`)
try {
  withdraw(50, r) // the same, now stale, decision
} catch (e) {
  if (!(e instanceof AppendConditionError)) throw e
  console.log(`stale decision refused: ${e.code}`)
}
console.log(`final balance ${store.project(account, balance).state}`)
store.close()
