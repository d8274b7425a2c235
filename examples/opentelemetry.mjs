// OpenTelemetry spans for appends, from causeway's diagnostics channels.
// causeway has no OpenTelemetry dependency: it publishes on the
// `causeway:append` tracing channel (node:diagnostics_channel), and this
// bridge turns each traced append into a span through @opentelemetry/api.
// A real service registers the OpenTelemetry SDK's tracer provider instead
// of the tiny printing one below.
import diagnostics_channel from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import { Coordinate, EventKind, Store } from 'causeway'

// A minimal tracer provider: records finished spans (the SDK does this for real).
const finished = []
class PrintingSpan {
  constructor(name, attributes) {
    this.name = name
    this.attributes = { ...attributes }
    this.status = { code: SpanStatusCode.UNSET }
    this.started = performance.now()
  }
  setAttribute(k, v) { this.attributes[k] = v; return this }
  setAttributes(a) { Object.assign(this.attributes, a); return this }
  setStatus(s) { this.status = s; return this }
  recordException(e) { this.attributes['exception.message'] = String(e?.message ?? e) }
  end() { this.ms = performance.now() - this.started; finished.push(this) }
  isRecording() { return true }
  spanContext() { return { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 } }
  addEvent() { return this }
  addLink() { return this }
  addLinks() { return this }
  updateName(n) { this.name = n; return this }
}
trace.setGlobalTracerProvider({
  getTracer: () => ({
    startSpan: (name, options) => new PrintingSpan(name, options?.attributes),
    startActiveSpan: () => { throw new Error('not used here') },
  }),
})

// The bridge: one span per traced append, keyed by the channel's context object.
const tracer = trace.getTracer('causeway-example')
const spans = new WeakMap()
diagnostics_channel.tracingChannel('causeway:append').subscribe({
  start(ctx) {
    spans.set(ctx, tracer.startSpan(`causeway.${ctx.op}`, { attributes: { 'causeway.events': ctx.events, 'causeway.durable': ctx.durable } }))
  },
  end(ctx) {
    const span = spans.get(ctx)
    if (!span) return
    const first = Array.isArray(ctx.result) ? ctx.result[0] : ctx.result
    if (first) span.setAttribute('causeway.sequence', String(first.globalSequence))
    span.end()
  },
  error(ctx) {
    const span = spans.get(ctx)
    span?.recordException(ctx.error)
    span?.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error?.code })
  },
  asyncStart() {},
  asyncEnd() {},
})

const dataDir = process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-otel-'))
const store = Store.open({ dataDir })
const Placed = EventKind.custom(1, 1)
const order = new Coordinate('order:1', 'shop')
store.append(order, Placed, { total: 42 }, { durable: true })
store.appendBatch([
  { coord: new Coordinate('order:2', 'shop'), kind: Placed, payload: { total: 7 } },
  { coord: new Coordinate('order:3', 'shop'), kind: Placed, payload: { total: 9 } },
])
try {
  store.append(order, Placed, { total: 1 }, { expectedSequence: 0 })
} catch {
  // refused: the span records the error
}
store.close()
for (const s of finished) {
  const status = s.status.code === SpanStatusCode.ERROR ? ` error ${s.status.message}` : ''
  console.log(`span ${s.name} events=${s.attributes['causeway.events']} durable=${s.attributes['causeway.durable']}${s.attributes['causeway.sequence'] ? ` sequence=${s.attributes['causeway.sequence']}` : ''}${status}`)
}
if (!process.env.CAUSEWAY_DATA) rmSync(dataDir, { recursive: true, force: true })
