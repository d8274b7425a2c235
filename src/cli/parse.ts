import { InvalidArgumentError } from 'commander'

/** An option parser for an integer in [min, max]; commander names the option in its error. */
export function integer(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v)
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected an integer ${min}..${max}.`)
    return n
  }
}

/** An option parser for a global sequence (a bigint). */
export function sequence(v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a global sequence (a non-negative integer).')
  return BigInt(v)
}
