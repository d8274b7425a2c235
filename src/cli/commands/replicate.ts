import type { Command } from 'commander'
import { jsonSafe, print, printJson } from '../output.js'
import { integer } from '../parse.js'
import { existingStore, openStore } from '../store-dir.js'
import { Failure } from '../errors.js'
import { openReplica, promote, replicate, standby } from '../../replicate/index.js'

interface NatsOpts {
  nats: string
  stream: string
  statusMs: number
}

/** Resolves on SIGINT or SIGTERM. */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

/** Prints `status()` as a JSON line every `ms` (0: never) until stopped. */
function reportEvery(ms: number, status: () => unknown): () => void {
  if (ms === 0) return () => undefined
  const t = setInterval(() => print(JSON.stringify(jsonSafe(status()))), ms)
  return () => clearInterval(t)
}

const natsOptions = (c: Command): Command =>
  c
    .requiredOption('--nats <urls>', 'NATS server URLs, comma-separated (nats://127.0.0.1:4222,...)')
    .requiredOption('--stream <name>', 'the JetStream stream (1..64 of A-Z a-z 0-9 _ -)')
    .option('--status-ms <ms>', 'print the status as a JSON line this often (0: never)', integer(0, 3_600_000), 1000)

export function replicateCommand(program: Command): void {
  natsOptions(
    program
      .command('replicate')
      .summary('publish a store\'s events to a NATS JetStream stream (sidecar)')
      .description('Follow a store (opened read-only, beside its writer) and publish every event, in global order, to a JetStream stream replicated on 3 nodes; resumes where JetStream acknowledged.')
      .argument('<dir>', 'the store directory'),
  )
    .option('--replicas <n>', 'copies JetStream keeps when it creates the stream', integer(1, 5), 3)
    .option('--lease-ttl-ms <ms>', 'hold the writer\'s failover lease (for `causeway standby`), renewed every third of this', integer(300, 3_600_000))
    .addHelpText('after', '\nRuns until SIGINT/SIGTERM; exits 1 with E_FENCED when another writer owns the stream.\n\nExamples:\n  causeway replicate ./data --nats nats://n1:4222,nats://n2:4222 --stream orders')
    .action(async (dir: string, o: NatsOpts & { replicas: number; leaseTtlMs?: number }) => {
      const store = openStore(existingStore(dir), true)
      try {
        const pub = await replicate(store, { servers: o.nats, stream: o.stream, replicas: o.replicas, ...(o.leaseTtlMs ? { leaseTtlMs: o.leaseTtlMs } : {}) })
        const stopReport = reportEvery(o.statusMs, () => pub.status())
        const stopped = await Promise.race([stopSignal().then(() => true), pub.done.then(() => false)])
        stopReport()
        await pub.close()
        print(JSON.stringify(jsonSafe(pub.status())))
        if (!stopped || pub.status().error) {
          const e = pub.status().error
          if (e && (e.code === 'E_FENCED' || e.code === 'E_REPLICATION')) throw new Failure(`${e.code}: ${e.message}`)
        }
      } finally {
        store.close()
      }
    })

  natsOptions(
    program
      .command('replica')
      .summary('build and follow a read replica from a JetStream stream')
      .description('Build a local store from the stream and follow it, byte for byte the primary\'s log (ids, payloads, hashes, chains); the replica is the store\'s only writer.')
      .argument('<dir>', 'the replica directory (created when missing)'),
  )
    .addHelpText('after', '\nRuns until SIGINT/SIGTERM. Read it with any read-only command (causeway verify, tail --follow).\n\nExamples:\n  causeway replica ./replica --nats nats://n1:4222 --stream orders')
    .action(async (dir: string, o: NatsOpts) => {
      const replica = await openReplica({ dataDir: dir, servers: o.nats, stream: o.stream })
      const stopReport = reportEvery(o.statusMs, () => replica.status())
      // Only the end of the replica fails the command: a lost node or consumer it recovered from does not.
      let ended = false
      await Promise.race([stopSignal(), replica.done.then(() => undefined, () => void (ended = true))])
      stopReport()
      const last = replica.status()
      await replica.close()
      print(JSON.stringify(jsonSafe(last)))
      if (ended && last.error) throw new Failure(`${last.error.code}: ${last.error.message}`)
    })

  natsOptions(
    program
      .command('standby')
      .summary('follow as a replica and take over when the primary\'s lease expires (automatic failover)')
      .description('A replica that watches the writer\'s lease in JetStream KV (the primary runs with --lease-ttl-ms or the leaseTtlMs option): once it has expired, takes it, promotes the replica (catch-up, fence) and publishes its appends; other processes then write the store through this one.')
      .argument('<dir>', 'the replica directory (created when missing)'),
  )
    .option('--lease-ttl-ms <ms>', 'the lease\'s time to live: the primary is presumed gone this long after its last renewal', integer(300, 3_600_000), 5000)
    .option('--replicas <n>', 'copies JetStream keeps of the lease bucket when it creates it', integer(1, 5), 3)
    .addHelpText('after', '\nRuns until SIGINT/SIGTERM; its status lines say state following, promoting or primary.\n\nExamples:\n  causeway standby ./replica --nats nats://n1:4222,nats://n2:4222 --stream orders --lease-ttl-ms 5000')
    .action(async (dir: string, o: NatsOpts & { leaseTtlMs: number; replicas: number }) => {
      const s = await standby({ dataDir: dir, servers: o.nats, stream: o.stream, leaseTtlMs: o.leaseTtlMs, replicas: o.replicas })
      const stopReport = reportEvery(o.statusMs, () => s.status())
      let failed = false
      await Promise.race([stopSignal(), s.done.then(() => new Promise<void>(() => undefined), () => void (failed = true))])
      stopReport()
      const last = s.status()
      await s.close()
      print(JSON.stringify(jsonSafe(last)))
      if (failed && last.error) throw new Failure(`${last.error.code}: ${last.error.message}`)
    })

  program
    .command('promote')
    .summary('make a replica the writer (failover)')
    .description('Catch a stopped replica up with its stream (with --nats), publish a fence marker that stops the old primary, then mark it the primary: it takes appends, and `causeway replicate` publishes them; an old primary that returns is fenced (E_FENCED).')
    .argument('<dir>', 'the replica directory (stop its `causeway replica` first)')
    .option('--nats <urls>', 'catch up with the stream on these servers first (recommended)')
    .option('--timeout-ms <ms>', 'how long the catch-up may take', integer(1, 3_600_000), 60_000)
    .option('--json', 'print the report as one JSON document')
    .addHelpText('after', '\nExamples:\n  causeway promote ./replica --nats nats://n1:4222,nats://n2:4222\n  causeway replicate ./replica --nats nats://n1:4222 --stream orders   # then publish its appends')
    .action(async (dir: string, o: { nats?: string; timeoutMs: number; json?: boolean }) => {
      const r = await promote({ dataDir: existingStore(dir), ...(o.nats ? { servers: o.nats } : {}), timeoutMs: o.timeoutMs })
      if (o.json) printJson(jsonSafe(r))
      else print(`promoted ${r.dataDir} (stream ${r.stream})${r.caughtUp ? `: caught up and fenced, next global sequence ${r.next}, writer ${r.writer}` : ' without catching up or fencing (no --nats)'}`)
    })
}
