import type { Command } from 'commander'
import { Notifier } from '../../delivery/notifier.js'
import type { Cursor, Region, Store, StoredEvent } from '../../index.js'
import { eventLine, eventRecord, write } from '../output.js'
import { PAGE, pages } from '../pages.js'
import { integer, sequence } from '../parse.js'
import { checkKindName, type RegionOpts, regionOf } from '../region-options.js'
import { existingStore, openStore } from '../store-dir.js'

interface TailOpts extends RegionOpts {
  lines: number
  from?: bigint
  follow?: boolean
  json?: boolean
}

/**
 * --follow wakes on the live writer's notes (a read-only store watches the
 * writer over its socket). Only a writer that serves no socket (an
 * `exclusive: true` writer, Windows) sends none: for that case alone,
 * refresh() runs when nothing woke the wait for this long.
 */
const FALLBACK_MS = 1000

/** The last `n` matching events and the sequence after the end of the store. */
function lastEvents(store: Store, region: Region, n: number): { events: StoredEvent[]; position: bigint } {
  const end = store.stats().nextSequence
  if (n === 0) return { events: [], position: end }
  // Look back over a window that grows until it holds n matching events (or reaches the start).
  for (let window = BigInt(Math.max(4 * n, 256)); ; window *= 8n) {
    const from = end > window ? end - window : 0n
    let kept: StoredEvent[] = []
    for (const page of pages(store, region, from)) kept = kept.concat(page).slice(-n)
    if (kept.length >= n || from === 0n) return { events: kept, position: end }
  }
}

/**
 * Every matching event the cursor has not delivered yet, up to the end the
 * store has now, or only those below `until` (a run without --follow prints
 * what the store held when it started, however fast a writer appends).
 */
async function drain(cursor: Cursor, out: (e: StoredEvent) => Promise<void> | undefined, until?: bigint): Promise<void> {
  for (;;) {
    const page = cursor.pollBatch(PAGE)
    if (page.length === 0) return
    for (const e of page) {
      if (until !== undefined && e.globalSequence >= until) return
      await out(e)
    }
  }
}

class Stopper {
  stopped = false
  /** Settles on SIGINT, SIGTERM or EPIPE. */
  readonly signal: Promise<void>
  constructor() {
    this.signal = new Promise((resolve) => {
      const stop = () => {
        this.stopped = true
        resolve()
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      process.stdout.once('error', stop) // EPIPE: the reader went away
    })
  }
}

/** Waits for events past `seen`, a stop, or FALLBACK_MS; true when it timed out. */
async function waitForMore(store: Store, seen: number, stopper: Stopper): Promise<boolean> {
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true
      resolve()
    }, FALLBACK_MS)
  })
  try {
    await Notifier.of(store).wait(seen, Promise.race([timeout, stopper.signal]))
  } finally {
    clearTimeout(timer)
  }
  return timedOut
}

async function tail(dir: string, region: Region, o: TailOpts): Promise<void> {
  const out = (e: StoredEvent) => write(process.stdout, `${o.json ? JSON.stringify(eventRecord(e)) : eventLine(e)}\n`)
  // Installed before the first event is printed, so an early Ctrl-C still exits with code 0.
  const stopper = o.follow ? new Stopper() : undefined
  // Read-only: takes no lock, so it opens while a writer in another process appends.
  const store = openStore(dir, true)
  try {
    checkKindName(o, store.types)
    let cursor: Cursor
    if (o.from !== undefined) {
      cursor = store.cursor(region, { from: o.from })
    } else {
      const last = lastEvents(store, region, o.lines)
      for (const e of last.events) await out(e)
      if (!stopper) return // the last --lines and nothing after them: the store may be growing meanwhile
      cursor = store.cursor(region, { from: last.position })
    }
    // Without --follow: what the store held at the start (it follows a live writer meanwhile).
    if (!stopper) return await drain(cursor, out, store.stats().nextSequence)
    // --follow: the same store, which follows a live writer by itself.
    for (;;) {
      // Read before draining: an event published after the drain wakes the wait at once.
      const seen = store.nativeHandle().nextSequence()
      await drain(cursor, out)
      if (!stopper || stopper.stopped) break
      if ((await waitForMore(store, seen, stopper)) && !stopper.stopped) store.refresh()
      if (stopper.stopped) break
    }
  } finally {
    store.close()
  }
}

export function tailCommand(program: Command): void {
  program
    .command('tail')
    .summary('print the last events; --follow for new ones')
    .description('Print the last events of a store, optionally of one entity, scope or kind; --follow waits for more.')
    .argument('<dir>', 'the store directory (opened read-only)')
    .option('--entity <prefix>', 'only this entity and the entities under it (order: order and order:42, not orders)')
    .option('--scope <scope>', 'only events in this scope')
    .option('--kind <kind>', 'only events of this kind: a type name (order.placed), 4097, 0x1001 or 1:1')
    .option('-n, --lines <n>', 'how many of the last events to print (0: none, e.g. with --follow)', integer(0, 1_000_000), 10)
    .option('--from <sequence>', 'print every matching event from this global sequence on, instead of the last --lines', sequence)
    .option('-f, --follow', 'keep running and print events as they are appended, until interrupted')
    .option('--json', 'one JSON object per line (NDJSON), the fields of StoredEvent.toJSON()')
    .addHelpText(
      'after',
      `
Each line: #sequence time entity @scope kind payload-as-JSON; an event with an
event time or tags has occurred=time and tags=[a,b] after its kind.

--follow keeps the store open read-only and prints the events a writer in
another process appends, as they are appended: the read-only store watches
the writer over <dir>/writer.sock, and the next writer after a failover. A
writer that serves no socket (exclusive: true) is followed by a refresh
every ${FALLBACK_MS} ms. A reader takes no lock: it neither waits for a writer
nor holds one up, and never becomes the writer.
Stop it with Ctrl-C (SIGINT) or SIGTERM: it exits with code 0.

Examples:
  causeway tail ./data
  causeway tail ./data --entity order:42 -n 50
  causeway tail ./data --scope shop --follow --json | jq .payload`,
    )
    .action(async (dir: string, opts: TailOpts) => {
      const abs = existingStore(dir)
      await tail(abs, regionOf(opts), opts)
    })
}

