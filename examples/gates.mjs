// Gates: checks in front of a commit. A Pipeline commits only with a Receipt
// that every gate allowed; a denial is recorded on the entity's own chain.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, DENIAL_KIND, EventKind, GateDeniedError, GateSet, Pipeline, Store } from 'causeway'

const Withdrawn = EventKind.custom(1, 2)
const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-gates-')) })
const account = new Coordinate(`account:${store.stats().nextSequence}`, 'bank')

const gates = new GateSet()
  .push({ name: 'not-frozen', evaluate: (ctx) => (ctx.frozen ? { code: 'FROZEN', message: 'the account is frozen' } : null) })
  .push({
    name: 'funded',
    evaluate: (ctx) =>
      ctx.amount > ctx.balance ? { code: 'INSUFFICIENT_FUNDS', message: `needs ${ctx.amount}, has ${ctx.balance}` } : null,
  })
const pipeline = new Pipeline(gates)

function withdraw(ctx) {
  try {
    const receipt = pipeline.evaluate(ctx, { amount: ctx.amount })
    const r = pipeline.commit(receipt, (proposal) => store.append(account, Withdrawn, proposal))
    console.log(`withdrew ${ctx.amount} after gates ${receipt.gatesPassed.join(', ')} (sequence ${r.globalSequence})`)
  } catch (e) {
    if (!(e instanceof GateDeniedError)) throw e
    const r = store.appendDenial(account, e.denial)
    console.log(`denied by ${e.denial.gate}: ${e.denial.code}, recorded at clock ${r.clock}`)
  }
}

withdraw({ balance: 100, amount: 40, frozen: false })
withdraw({ balance: 60, amount: 500, frozen: false })
const all = gates.evaluateAll({ balance: 0, amount: 1, frozen: true })
console.log(`every denial at once: ${all.map((d) => d.code).join(', ')}`)
console.log(`denials on record: ${store.byFact(DENIAL_KIND).length}`)
store.close()
