import { Option, type Command } from 'commander'
import { type AncestorWalk, type CausalGraph, isCausewayError, Region, type Store, type StoredEvent } from '../../index.js'
import { Exit, Failure, UsageError } from '../errors.js'
import { eventRecord, extrasText, jsonSafe, kindText, print, printJson } from '../output.js'
import { integer } from '../parse.js'
import { existingStore, withStore } from '../store-dir.js'

interface WalkOpts {
  direction: 'causes' | 'effects' | 'both'
  depth: number
  chain: boolean
  json?: boolean
}

interface ChainCheck {
  entity: string
  from: string
  events: number
  stopped: AncestorWalk<StoredEvent>['stopped'] | 'broken'
  error?: string
}

const PAYLOAD_CHARS = 100

/** The event named on the command line: an event id, or a global sequence (12 or #12). */
function resolve(store: Store, ref: string): StoredEvent {
  const seq = /^#?(\d+)$/.exec(ref)
  if (seq) {
    const at = BigInt(seq[1]!)
    const e = store.cursor(Region.all(), { from: at }).pollBatch(1)[0]
    if (!e || e.globalSequence !== at) throw new Failure(`no event at global sequence ${at}`)
    return e
  }
  let e: StoredEvent | undefined
  try {
    e = store.get(ref)
  } catch (err) {
    if (isCausewayError(err, 'E_INVALID_ARGUMENT')) throw new UsageError(`${ref} is neither an event id (UUID) nor a global sequence`)
    throw err
  }
  if (!e) throw new Failure(`no event with id ${ref}`)
  return e
}

function label(e: StoredEvent): string {
  const c = e.coordinate
  let p = JSON.stringify(jsonSafe(e.payload)) ?? 'null'
  if (p.length > PAYLOAD_CHARS) p = `${p.slice(0, PAYLOAD_CHARS - 1)}…`
  return `#${e.globalSequence} ${c.entity} @${c.scope} ${kindText(e)}${extrasText(e)} ${e.eventId} ${p}`
}

/** The graph as an indented tree, causes above their effects (each event has at most one cause). */
export function renderTree(g: CausalGraph): string[] {
  const byId = new Map(g.nodes.map((n) => [n.eventId, n]))
  const effects = new Map<string, StoredEvent[]>()
  for (const { cause, effect } of g.edges) {
    const e = byId.get(effect)
    if (!e || !byId.has(cause)) continue
    const list = effects.get(cause) ?? []
    if (!list.includes(e)) list.push(e)
    effects.set(cause, list)
  }
  const lines: string[] = []
  const seen = new Set<string>()
  const visit = (e: StoredEvent, prefix: string, branch: string) => {
    const mark = e.eventId === g.root ? '   ◀ this event' : ''
    lines.push(`${prefix}${branch}${label(e)}${mark}`)
    if (seen.has(e.eventId)) return
    seen.add(e.eventId)
    const kids = (effects.get(e.eventId) ?? []).sort((a, b) => (a.globalSequence < b.globalSequence ? -1 : 1))
    const childPrefix = prefix + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ')
    kids.forEach((k, i) => visit(k, childPrefix, i === kids.length - 1 ? '└─ ' : '├─ '))
  }
  const roots = g.nodes.filter((n) => n.causationId === null || !byId.has(n.causationId))
  for (const r of roots) {
    if (r.causationId !== null) {
      lines.push(g.truncated ? `(caused by ${r.causationId}, beyond --depth)` : `(caused by ${r.causationId}, which is not in the store)`)
    }
    visit(r, '', '')
  }
  return lines
}

/** Each entity's hash chain, walked back from its newest event in the graph. */
function checkChains(store: Store, g: CausalGraph): ChainCheck[] {
  const newest = new Map<string, StoredEvent>()
  for (const n of g.nodes) newest.set(n.coordinate.entity, n) // nodes are in global order: the last one wins
  const out: ChainCheck[] = []
  for (const [entity, e] of newest) {
    try {
      const w = store.walkAncestorsOutcome(e.eventId)
      out.push({ entity, from: e.eventId, events: w.events.length, stopped: w.stopped })
    } catch (err) {
      if (!isCausewayError(err, 'E_CORRUPTION')) throw err
      out.push({ entity, from: e.eventId, events: 0, stopped: 'broken', error: err.message })
    }
  }
  return out
}

function chainText(c: ChainCheck): string {
  const n = `${c.events} event${c.events === 1 ? '' : 's'}`
  switch (c.stopped) {
    case 'genesis':
      return `${c.entity}: ${n} back to its first, every hash and link verified`
    case 'missing-parent':
      return `${c.entity}: ${n} verified back to an event removed by retention`
    case 'broken':
      return `${c.entity}: BROKEN: ${c.error ?? ''}`
    case 'limit':
      return `${c.entity}: ${n} verified (${c.stopped})`
  }
}

export function walkCommand(program: Command): void {
  program
    .command('walk')
    .summary('causal audit of one event, as a tree')
    .description('The causal audit of one event: its causes and effects across entities, as a tree, with hash chains checked.')
    .argument('<dir>', 'the store directory (opened read-only)')
    .argument('<event>', 'an event id, or a global sequence (12 or #12)')
    .addOption(new Option('--direction <direction>', 'causes (up), effects (down) or both').choices(['causes', 'effects', 'both']).default('both'))
    .option('--depth <n>', 'most causation hops from the event', integer(0, 100_000), 64)
    .option('--no-chain', "skip checking the hash chains of the entities in the tree")
    .option('--json', 'print { root, nodes, edges, truncated, chains } as one JSON document')
    .addHelpText(
      'after',
      `
Each line: #sequence entity @scope kind [occurred=time] [tags=[a,b]] eventId payload. An event is drawn
under the event that caused it (its causationId); the walked event is marked.
Then, for each entity in the tree, its BLAKE3 hash chain is walked back from
its newest event shown, re-hashing every payload (exit code 1 if broken).

Examples:
  causeway walk ./data 01a20bc9-4cb6-7f02-81e0-8e8161f4c84a
  causeway walk ./data 12 --direction effects --depth 3`,
    )
    .action(async (dir: string, ref: string, opts: WalkOpts) => {
      const abs = existingStore(dir)
      await withStore(abs, true, (store) => {
        const start = resolve(store, ref)
        const g = store.causalGraph(start.eventId, { direction: opts.direction, maxDepth: opts.depth })
        const chains = opts.chain ? checkChains(store, g) : undefined
        if (opts.json) {
          printJson({ root: g.root, direction: opts.direction, maxDepth: opts.depth, truncated: g.truncated, nodes: g.nodes.map((n) => eventRecord(n)), edges: g.edges, ...(chains ? { chains } : {}) })
        } else {
          const others = g.nodes.length - 1
          print(`causal graph of ${g.root} (${opts.direction}, depth ${opts.depth}): ${others} related event${others === 1 ? '' : 's'}${g.truncated ? ', cut at --depth' : ''}`)
          for (const l of renderTree(g)) print(l)
          if (chains) {
            print('hash chains:')
            for (const c of chains) print(`  ${chainText(c)}`)
          }
        }
        if (chains?.some((c) => c.stopped === 'broken')) process.exitCode = Exit.failure
      })
    })
}
