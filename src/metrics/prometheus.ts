import type { Registry } from 'prom-client'
import type { LatencySummary } from './latency.js'
import type { MetricCounters, StoreMetrics } from './metrics.js'

type Labels = Record<string, string>
interface Sample {
  value: number
  labels: Labels
  metricName?: string
}

/** A prom-client metric whose values are read from the store at scrape time. */
class ReadMetric {
  readonly aggregator = 'sum' as const
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'summary',
    private readonly read: () => Sample[],
  ) {}
  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.read() }
  }
  reset(): void {}
}

const COUNTERS: Array<[keyof MetricCounters, string, string]> = [
  ['appends', 'causeway_appends_total', 'Single appends that wrote or deduplicated an event'],
  ['batches', 'causeway_batches_total', 'appendBatch/appendIf calls that went through'],
  ['events', 'causeway_events_total', 'Events written'],
  ['bytes', 'causeway_payload_bytes_total', 'Encoded payload bytes written'],
  ['deduplicated', 'causeway_deduplicated_total', 'Appends answered from the idempotency table'],
  ['casFailures', 'causeway_cas_failures_total', 'Appends refused: entity not at the expected clock'],
  ['conditionConflicts', 'causeway_condition_conflicts_total', 'Conditional appends refused by a matching event'],
  ['syncs', 'causeway_syncs_total', 'fdatasync/fsync calls'],
  ['syncFailures', 'causeway_sync_failures_total', 'Failed syncs'],
  ['rolls', 'causeway_segment_rolls_total', 'Segment rolls'],
  ['subscribersLagged', 'causeway_subscribers_lagged_total', 'Times a subscriber lost events to the broadcast ring'],
  ['lagEvents', 'causeway_subscriber_lag_events_total', 'Events subscribers lost to the broadcast ring'],
]

const LATENCIES: Array<[keyof StoreMetrics['latency'], string, string]> = [
  ['append', 'causeway_append_latency_seconds', 'Non-durable append latency (sampled)'],
  ['durableAppend', 'causeway_durable_append_latency_seconds', 'Durable append latency'],
  ['sync', 'causeway_sync_latency_seconds', 'Sync latency'],
  ['roll', 'causeway_segment_roll_latency_seconds', 'Segment roll latency'],
]

function summarySamples(name: string, s: LatencySummary, labels: Labels): Sample[] {
  const q = (quantile: string, micros: number): Sample => ({ value: micros / 1e6, labels: { ...labels, quantile } })
  return [
    q('0.5', s.p50),
    q('0.9', s.p90),
    q('0.99', s.p99),
    q('0.999', s.p999),
    { value: (s.mean * s.count) / 1e6, labels, metricName: `${name}_sum` },
    { value: s.count, labels, metricName: `${name}_count` },
  ]
}

/**
 * Registers the store's metrics with a prom-client registry; each scrape
 * calls `read()` (usually `() => store.metrics()`). `labels` go on every
 * sample (e.g. `{ store: 'orders' }`).
 */
export function registerStoreMetrics(registry: Registry, read: () => StoreMetrics, labels: Labels = {}): void {
  let cached: { at: number; m: StoreMetrics } | undefined
  // One read per scrape, not one per metric.
  const current = (): StoreMetrics => {
    const now = Date.now()
    if (!cached || now - cached.at > 50) cached = { at: now, m: read() }
    return cached.m
  }
  for (const [key, name, help] of COUNTERS) {
    registry.registerMetric(new ReadMetric(name, help, 'counter', () => [{ value: current().counters[key], labels }]) as never)
  }
  for (const [key, name, help] of LATENCIES) {
    registry.registerMetric(new ReadMetric(name, help, 'summary', () => summarySamples(name, current().latency[key], labels)) as never)
  }
}

/** The Prometheus text exposition (format 0.0.4) of one metrics reading. */
export async function prometheusText(m: StoreMetrics, labels: Labels = {}): Promise<string> {
  // Loaded on first use: prom-client takes a while to load, and most stores never render text.
  const { Registry } = await import('prom-client')
  const registry = new Registry()
  registerStoreMetrics(registry, () => m, labels)
  return registry.metrics()
}

/** The content type of the text format (prom-client's Registry.PROMETHEUS_CONTENT_TYPE). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
