import { EventKind } from '../kind.js'
import { optionKeys } from '../strict.js'

/** What a gate returns to refuse: a stable `code`, a message, and optional plain-data context. */
export interface DenialInit {
  code: string
  message: string
  context?: Record<string, unknown>
}

/** A refusal, with the name of the gate that made it. */
export interface Denial extends DenialInit {
  gate: string
}

/** The keys of a denial appendDenial records; any other would be dropped from the event. */
export const DENIAL_KEYS = optionKeys<Denial>()(['gate', 'code', 'message', 'context'])

/** The denial code of a gate that threw, or returned something that is neither a denial nor null. */
export const GATE_DEFECT = 'GATE_DEFECT'

/** The system kind (category 0, type 0xF) of the events store.appendDenial writes. */
export const DENIAL_KIND: EventKind = EventKind.fromValue(0x000f)

/** A check on a context: null or undefined allows, a DenialInit refuses (its `gate` is filled in from `name`). */
export interface Gate<Ctx> {
  readonly name: string
  readonly description?: string
  evaluate(ctx: Ctx): DenialInit | null | undefined
}

function defect(gate: string, message: string, context: Record<string, unknown>): Denial {
  return { gate, code: GATE_DEFECT, message, context }
}

/** Runs one gate; a throw or a malformed verdict becomes a GATE_DEFECT denial. */
export function runGate<Ctx>(gate: Gate<Ctx>, ctx: Ctx): Denial | null {
  let v: unknown
  try {
    v = gate.evaluate(ctx)
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    return defect(gate.name, `gate ${gate.name} threw: ${error}`, { error })
  }
  if (v === null || v === undefined) return null
  const d = v as Partial<DenialInit>
  if (typeof d !== 'object' || typeof d.code !== 'string' || typeof d.message !== 'string') {
    return defect(gate.name, `gate ${gate.name} returned neither null nor a denial`, { returned: typeof v })
  }
  const out: Denial = { gate: gate.name, code: d.code, message: d.message }
  if (d.context !== undefined) out.context = d.context
  return out
}
