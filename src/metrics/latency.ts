// The Uint32-count histogram alone: the package's index also loads its
// WebAssembly build and codecs, about ten times the load time.
import Int32Histogram from 'hdr-histogram-js/dist/Int32Histogram.js'

/** A latency distribution in microseconds, as `metrics()` reports it. */
export interface LatencySummary {
  /** Samples recorded (appends are sampled: see `Metrics.sampleEvery`). */
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/** One latency histogram (HdrHistogram, 3 significant digits, 1 µs to 1 h). */
export class Latency {
  private readonly h = new Int32Histogram(1, 3_600_000_000, 3)

  /** Records one duration given in microseconds (clamped to the tracked range). */
  record(micros: number): void {
    const v = micros < 1 ? 1 : micros > 3_600_000_000 ? 3_600_000_000 : Math.round(micros)
    this.h.recordValue(v)
  }

  summary(): LatencySummary {
    const h = this.h
    if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }
    // A percentile is reported as its bucket's highest equivalent value, which
    // may pass the largest sample: clamp it to that sample.
    const max = h.maxValue
    const at = (p: number) => Math.min(h.getValueAtPercentile(p), max)
    return {
      count: h.totalCount,
      min: h.minNonZeroValue,
      mean: Math.round(h.mean * 10) / 10,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max,
    }
  }
}
