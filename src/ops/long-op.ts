import { InvalidArgumentError, OperationAbortedError, isCausewayError } from '../errors.js'
import { checkOptions } from '../strict.js'
import type { NativeStore } from '../native/binding.js'

/** Options every async long operation takes. */
export interface LongOpOptions<P> {
  /** Aborting rejects with OperationAbortedError (name 'AbortError') and leaves the store as it was. */
  signal?: AbortSignal
  /** Called on the event loop as the operation advances; `done` never decreases and ends at `total`. */
  onProgress?: (progress: P) => void
}

/** The keys every async long operation accepts. */
export const LONG_OP_KEYS = ['signal', 'onProgress'] as const

/**
 * Checks the shared options once, at the entry point; `otherKeys` are the
 * operation's own options, so any other key is refused.
 */
export function checkLongOpOptions<P>(options: unknown, method: string, otherKeys: readonly string[] = []): LongOpOptions<P> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${method} expects an options object`)
  checkOptions(method, options, [...otherKeys, ...LONG_OP_KEYS])
  const { signal, onProgress } = options as LongOpOptions<P>
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`${method}: signal must be an AbortSignal`)
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidArgumentError(`${method}: onProgress must be a function`)
  return { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) }
}

export function abortError(signal: AbortSignal, what: string): OperationAbortedError {
  return new OperationAbortedError(`${what} was aborted; the store is unchanged`, { cause: signal.reason })
}

/** Throws the abort error when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what)
}

/** Lets the event loop run timers and I/O before the next slice of work. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

let nextId = 1

/**
 * Runs one native operation on the libuv pool: `start(id, progress)` queues
 * it; the signal's abort becomes `cancelAsync(id)`. A progress callback that
 * throws cancels the operation, which then rejects with what it threw.
 */
export async function runOnPool<R>(
  h: NativeStore,
  what: string,
  signal: AbortSignal | undefined,
  onProgress: ((done: number, total: number) => void) | undefined,
  start: (id: number, progress: ((done: number, total: number) => void) | undefined) => Promise<R>,
): Promise<R> {
  const id = nextId
  nextId = nextId >= 0xffffffff ? 1 : nextId + 1
  let thrown: { error: unknown } | undefined
  let settled = false
  const progress =
    onProgress &&
    ((done: number, total: number) => {
      if (settled || thrown) return
      try {
        onProgress(done, total)
      } catch (error) {
        thrown = { error }
        h.cancelAsync(id)
      }
    })
  const cancel = () => h.cancelAsync(id)
  const pending = start(id, progress)
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    return await pending
  } catch (e) {
    if (thrown) throw thrown.error
    if (isCausewayError(e, 'E_ABORTED') && signal?.aborted) throw abortError(signal, what)
    throw e
  } finally {
    settled = true
    signal?.removeEventListener('abort', cancel)
  }
}
