import './run.js'

export type { AggregateLive, AggregateLiveOptions } from './live.js'
export type { AggregateGroupBy, AggregateSpec, AggregateWindow, AggregateWindowSpec, Duration, Measure } from './spec.js'
