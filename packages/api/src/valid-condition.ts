import type { ObjectError } from './build-config.js';
import type { ConditionDecision } from './conditions.js';
import type { Condition } from './types.js';

/** The condition type the controller writes on IPAddressPool, AddressPool and L2Advertisement. */
export const VALID_CONDITION = 'Valid';

/** Why an object is or is not valid, as its `Valid` condition's reason. */
export const VALID_REASONS = {
  /** No errors: the object is in use as written. */
  serving: 'Serving',
  /** The object is in error and not in use at all. */
  invalid: 'InvalidConfiguration',
  /** The object is in error; the version last seen valid is in use instead. */
  lastValidSpec: 'ServingLastValidSpec',
  /** Only parts of the object are in error (e.g. an L2Advertisement naming a missing pool); the rest is in use. */
  validPart: 'ServingValidPart',
} as const;

/** What the config build said about one object. */
export interface ObjectVerdict {
  /** Every error about the object as it is now, in the order buildConfig reports them. */
  errors: readonly Pick<ObjectError, 'message' | 'partial'>[];
  /** The object is invalid now and its last valid version is served in its place. */
  servingLastValid: boolean;
  /** `metadata.generation` of the object the verdict is about. */
  generation?: number;
}

/** At most this many error messages are quoted; the rest are counted (each is also an event). */
const QUOTED_ERRORS = 3;

/**
 * The `Valid` condition for an object. `False` whenever the object as written has an error, even
 * while its last valid version is still served: the condition is about the spec the user wrote,
 * the reason tells whether anything of it is in use. The message is one line: the errors (object,
 * field, value, why) and what the controller does about them.
 */
export function validCondition(verdict: ObjectVerdict): ConditionDecision {
  const base = {
    type: VALID_CONDITION,
    ...(verdict.generation !== undefined ? { observedGeneration: verdict.generation } : {}),
  };
  if (verdict.errors.length === 0)
    return { ...base, status: 'True', reason: VALID_REASONS.serving, message: 'valid and in use' };
  const errors = quote(verdict.errors.map((e) => e.message));
  if (verdict.errors.every((e) => e.partial === true)) {
    return {
      ...base,
      status: 'False',
      reason: VALID_REASONS.validPart,
      message: `${errors}; the rest of the object is in use`,
    };
  }
  if (verdict.servingLastValid) {
    return {
      ...base,
      status: 'False',
      reason: VALID_REASONS.lastValidSpec,
      message: `${errors}; the last valid spec stays in use until this is fixed`,
    };
  }
  return { ...base, status: 'False', reason: VALID_REASONS.invalid, message: `${errors}; not in use` };
}

/**
 * Whether an object's stored `Valid` condition already tells `message` about its current
 * generation. The condition outlives the controller's process, so a restarted controller that
 * finds its error quoted there has told the user already: an Event per restart and per invalid
 * object would only repeat it (a long soak with hundreds of restarts piled up 120k of them).
 */
export function validConditionTells(
  object: { metadata?: { generation?: number }; status?: { conditions?: readonly Condition[] } },
  message: string,
): boolean {
  const c = object.status?.conditions?.find((x) => x.type === VALID_CONDITION);
  if (c === undefined || c.status !== 'False') return false;
  if (c.observedGeneration !== object.metadata?.generation) return false;
  // quote() joins messages with '; ' and always appends '; <what is done about them>'.
  return `; ${c.message}`.includes(`; ${fold(message)}; `);
}

function fold(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ');
}

function quote(messages: string[]): string {
  const shown = messages.slice(0, QUOTED_ERRORS).map(fold);
  const more = messages.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${more} more (see the object's events)` : shown.join('; ');
}
