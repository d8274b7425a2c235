/**
 * @internal An explicit type version for a batch item, for `causeway import`:
 * an imported event must be stored with the version it was exported with,
 * not the importing process's current version of its type (else a later
 * read would upcast it wrongly, or not at all). A symbol key, so no caller
 * sets it by accident and strict option checks (for...in) never see it.
 */
import { InvalidArgumentError } from './errors.js'

/** @internal */
export const STORED_VERSION: unique symbol = Symbol('causeway.storedVersion')

/** @internal The item's explicit version (checked 1..65535), or undefined. */
export function explicitVersion(item: unknown, i: number): number | undefined {
  const v = (item as { [STORED_VERSION]?: unknown })[STORED_VERSION]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0xffff) {
    throw new InvalidArgumentError(`batch item ${i}: stored version must be an integer 1..65535, got ${String(v)}`)
  }
  return v
}
