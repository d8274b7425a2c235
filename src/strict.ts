import { InvalidArgumentError } from './errors.js'

/**
 * Refuses an options object holding a key the method does not know, so a
 * misspelt or unsupported option (`{ timestampMs: 5 }`) is an error instead
 * of being silently ignored. `undefined` passes (every options bag is
 * optional); anything but a plain object is refused.
 *
 * Cheap on the append hot path: one branch for `undefined`, and for a small
 * object one enumeration with a short `includes` per key.
 */
export function checkOptions(method: string, options: unknown, accepted: readonly string[]): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${method}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`)
  }
  for (const key in options) {
    if (!accepted.includes(key)) unknownOption(method, key, accepted)
  }
}

function unknownOption(method: string, key: string, accepted: readonly string[]): never {
  throw new InvalidArgumentError(
    `${method}: unknown option '${key}'; accepted: ${accepted.length > 0 ? accepted.join(', ') : 'none'}`,
    { option: key, accepted: [...accepted] },
  )
}

/** Keys of T that are strings (options are named, never symbols). */
type KeyOf<T> = keyof T & string

/** `unknown` when the list names every key of T; otherwise an object type naming the keys it misses. */
type Covers<T, L extends readonly string[]> = [Exclude<KeyOf<T>, L[number]>] extends [never]
  ? unknown
  : { readonly missingOptionKeys: Exclude<KeyOf<T>, L[number]> }

/**
 * The accepted keys of the options type T, in one list checked against T at
 * compile time: a name that is no key of T, or a key of T left out of the
 * list, does not compile (the error names `missingOptionKeys`). So adding an
 * option to an interface without listing it is a compile error.
 *
 * @example
 * export const SCAN_OPTION_KEYS = optionKeys<ScanOptions>()(['batchSize', 'fromSequence'])
 */
export function optionKeys<T extends object>() {
  return <const L extends readonly KeyOf<T>[]>(keys: L & Covers<T, L>): L => Object.freeze([...keys]) as unknown as L
}

/** The keys of `list` but those in `drop`: the list of an `Omit<T, K>` derived from T's own list. */
export function omitKeys<const L extends readonly string[], const K extends L[number]>(list: L, ...drop: K[]): readonly Exclude<L[number], K>[] {
  return Object.freeze(list.filter((k): k is Exclude<L[number], K> => !(drop as readonly string[]).includes(k)))
}
