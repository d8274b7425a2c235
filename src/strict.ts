import { InvalidArgumentError } from './errors.js'

/**
 * Refuses an options object holding a key the method does not know, so a
 * misspelt or unsupported option (`{ timestampMs: 5 }`) is an error instead
 * of being silently ignored. `undefined` passes (every options bag is
 * optional); anything but a plain object is refused.
 */
export function checkOptions(method: string, options: unknown, accepted: readonly string[]): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${method}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`)
  }
  for (const key in options) {
    if (!accepted.includes(key)) {
      throw new InvalidArgumentError(
        `${method}: unknown option '${key}'; accepted: ${accepted.length > 0 ? accepted.join(', ') : 'none'}`,
        { option: key, accepted: [...accepted] },
      )
    }
  }
}
