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

/**
 * An option parser for `--file-mode`: octal permission bits (640, 0640 or
 * 0o640) within 600..777 that include owner read and write.
 */
export function fileMode(v: string): number {
  const m = /^(?:0o?)?([0-7]{3})$/.exec(v)
  const n = m ? Number.parseInt(m[1]!, 8) : Number.NaN
  if (!(n >= 0o600 && (n & 0o600) === 0o600)) {
    throw new InvalidArgumentError('expected octal permission bits 600..777 that include owner read and write (600), e.g. 640.')
  }
  return n
}

/** The `--file-mode` option of the commands that write files. */
export const FILE_MODE_HELP =
  'permission bits of the files written, in octal (default 600; directories get x for each r; the umask still applies)'
