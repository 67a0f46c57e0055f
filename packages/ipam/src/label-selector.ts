import { err, ok } from './result.js';
import type { Result } from './result.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

/** A Kubernetes label selector: all of matchLabels and all of matchExpressions must hold. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** Kubernetes semantics: an empty selector matches everything. */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const value = present ? labels[expr.key] : undefined;
    switch (expr.operator) {
      case 'In':
        if (!present || !(expr.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (present && (expr.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A problem in a selector: `field` is relative to the selector (e.g. `matchExpressions[0].values`). */
export interface SelectorProblem {
  field: string;
  value: unknown;
  reason: string;
}

const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Checks the rules the API server applies to a LabelSelector. */
export function validateSelector(selector: unknown): Result<LabelSelector, SelectorProblem> {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
    return err({ field: '', value: selector, reason: 'a label selector must be an object' });
  }
  const { matchLabels, matchExpressions } = selector as Record<string, unknown>;
  if (matchLabels !== undefined) {
    if (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels)) {
      return err({ field: 'matchLabels', value: matchLabels, reason: 'must be a map of strings' });
    }
    for (const [key, value] of Object.entries(matchLabels)) {
      if (typeof value !== 'string')
        return err({ field: `matchLabels.${key}`, value, reason: 'must be a string' });
    }
  }
  if (matchExpressions !== undefined) {
    if (!Array.isArray(matchExpressions))
      return err({ field: 'matchExpressions', value: matchExpressions, reason: 'must be a list' });
    for (let i = 0; i < matchExpressions.length; i++) {
      const expr = matchExpressions[i] as Record<string, unknown> | null;
      const at = `matchExpressions[${i}]`;
      if (typeof expr !== 'object' || expr === null)
        return err({ field: at, value: expr, reason: 'must be an object' });
      if (typeof expr.key !== 'string' || expr.key === '')
        return err({ field: `${at}.key`, value: expr.key, reason: 'must be a non-empty string' });
      if (typeof expr.operator !== 'string' || !OPERATORS.includes(expr.operator)) {
        return err({
          field: `${at}.operator`,
          value: expr.operator,
          reason: `must be one of ${OPERATORS.join(', ')}`,
        });
      }
      const values = expr.values;
      if (values !== undefined && (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))) {
        return err({ field: `${at}.values`, value: values, reason: 'must be a list of strings' });
      }
      const count = Array.isArray(values) ? values.length : 0;
      if ((expr.operator === 'In' || expr.operator === 'NotIn') && count === 0) {
        return err({
          field: `${at}.values`,
          value: values,
          reason: `must be non-empty for operator ${expr.operator}`,
        });
      }
      if ((expr.operator === 'Exists' || expr.operator === 'DoesNotExist') && count > 0) {
        return err({
          field: `${at}.values`,
          value: values,
          reason: `must be empty for operator ${expr.operator}`,
        });
      }
    }
  }
  return ok(selector as LabelSelector);
}
