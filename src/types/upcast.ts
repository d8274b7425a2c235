/**
 * Upcasting: the steps that bring an event's stored payload to its type's
 * current version at read time. Stored bytes never change (hash chains and
 * verifyChain stay intact); each read runs the steps stored..current-1 on
 * the decoded payload. Steps live in this process only: every process
 * registers its own, as it defines its own schemas.
 */
import { InvalidArgumentError, TypeConflictError, UpcastError } from '../errors.js'
import type { StoredEvent } from '../event.js'

/** One step: the payload at version `from` (and its event) in, the payload at `from + 1` out. */
export type Upcaster<From = unknown, To = unknown> = (payload: From, event: UpcastSource) => To

/** The event an upcaster upcasts: every field but its payload (the argument) and what depends on it. */
export type UpcastSource = Omit<StoredEvent, 'payload' | 'version' | 'toJSON'>

/**
 * @internal The read-time plan of one kind: present only for kinds this
 * process defined or registered steps for, so other kinds pay one Map miss.
 */
export interface UpcastPlan {
  readonly type: string
  /** The version reads return: the type's `version` in this process. */
  current: number
  /** Step from version v to v + 1, by v. */
  readonly steps: Map<number, Upcaster>
}

/** The check a read makes before upcasting: throws the UpcastError the payload would. */
export function checkReachable(plan: UpcastPlan, stored: number, eventId: string | undefined): void {
  if (stored > plan.current) {
    throw new UpcastError(
      `type ${plan.type}: event ${eventId ?? '(none)'} is stored at version ${stored}, newer than version ${plan.current} this process reads: ` +
        `a newer writer appended it; upgrade this process or define the type at version ${stored}`,
      { type: plan.type, fromVersion: stored, toVersion: plan.current, eventId },
    )
  }
  for (let v = stored; v < plan.current; v++) {
    if (!plan.steps.has(v)) {
      throw new UpcastError(
        `type ${plan.type}: no upcast step ${v} -> ${v + 1}, so ${eventId === undefined ? 'events' : `event ${eventId}`} stored at version ${stored} cannot be read at version ${plan.current}: ` +
          `register it with store.types.upcast('${plan.type}', ${v}, ${v + 1}, fn)`,
        { type: plan.type, fromVersion: stored, toVersion: plan.current, missingStep: v, eventId },
      )
    }
  }
}

/** Runs the steps stored..current-1 on `payload`; a throwing step becomes an UpcastError with `cause`. */
export function upcastPayload(plan: UpcastPlan, stored: number, payload: unknown, event: UpcastSource): unknown {
  checkReachable(plan, stored, event.eventId)
  let p = payload
  for (let v = stored; v < plan.current; v++) {
    try {
      p = plan.steps.get(v)!(p, event)
    } catch (cause) {
      throw new UpcastError(
        `type ${plan.type}: the upcast step ${v} -> ${v + 1} threw on event ${event.eventId} (stored at version ${stored}): ${cause instanceof Error ? cause.message : String(cause)}`,
        { type: plan.type, fromVersion: v, storedVersion: stored, toVersion: plan.current, eventId: event.eventId, cause },
      )
    }
  }
  return p
}

/** Checks a step's arguments; throws InvalidArgumentError. */
export function checkStep(name: string, from: unknown, to: unknown, fn: unknown): number {
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1 || from >= 0xffff) {
    throw new InvalidArgumentError(`types.upcast ${name}: from must be an integer 1..65534, got ${String(from)}`)
  }
  if (to !== from + 1) {
    throw new InvalidArgumentError(`types.upcast ${name}: a step goes one version up, from ${from} to ${from + 1}, not to ${String(to)}`)
  }
  if (typeof fn !== 'function') throw new InvalidArgumentError(`types.upcast ${name}: the upcaster must be a function`)
  return from
}

/** Adds a step to a plan (true when new): the same function again is a no-op, another one a TypeConflictError. */
export function addStep(plan: UpcastPlan, from: number, fn: Upcaster): boolean {
  const had = plan.steps.get(from)
  if (had !== undefined && had !== fn) {
    throw new TypeConflictError(`type ${plan.type} already has an upcast step ${from} -> ${from + 1}: one step per version`, {
      type: plan.type,
      fromVersion: from,
    })
  }
  if (had === fn) return false
  plan.steps.set(from, fn)
  return true
}
