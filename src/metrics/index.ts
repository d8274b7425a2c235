export { Latency, type LatencySummary } from './latency.js'
export { Metrics, type MetricCounters, type StoreMetrics } from './metrics.js'
export { prometheusText, registerStoreMetrics, PROMETHEUS_CONTENT_TYPE } from './prometheus.js'
export { CHANNEL_NAMES } from './channels.js'
