/**
 * The native addon: its byte layouts (layouts.ts), its interface
 * (binding.ts) and the loader (loader.ts). Modules that only need a layout or
 * a type import that file, not the loader.
 */
export { Frame, Item, Rcpt, Rec, Req } from './layouts.js'
export type {
  Binding,
  NativeCompactionReport,
  NativeFilter,
  NativeMetrics,
  NativeSegmentInfo,
  NativeStats,
  NativeStore,
  NativeStoreOptions,
} from './binding.js'
export { blake3Hex, native } from './loader.js'
