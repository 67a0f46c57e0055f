import type { Condition } from './types.js';

/** A condition as decided, before it gets its transition time. */
export type ConditionDecision = Omit<Condition, 'lastTransitionTime'>;

/**
 * `conditions` with `next` in place of the condition of its type; other types stay as they are
 * and in order, a new type is appended. `lastTransitionTime` is kept while the status stays the
 * same and becomes `now` when it changes (metav1's SetStatusCondition rule), so a new message or
 * generation alone does not look like a transition.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionDecision,
  now: string,
): Condition[] {
  const list = conditions ?? [];
  const prev = list.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  const written: Condition = { ...next, lastTransitionTime };
  return prev ? list.map((c) => (c === prev ? written : c)) : [...list, written];
}

/** Whether `conditions` already says `next` (every field but the transition time). */
export function hasCondition(conditions: readonly Condition[] | undefined, next: ConditionDecision): boolean {
  const c = conditions?.find((x) => x.type === next.type);
  return (
    c !== undefined &&
    c.status === next.status &&
    c.reason === next.reason &&
    c.message === next.message &&
    c.observedGeneration === next.observedGeneration
  );
}
