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

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Why `key` is not a Kubernetes label key (`[prefix/]name`: prefix a DNS subdomain of at most 253
 * characters, name at most 63 alphanumerics, `-`, `_`, `.`), or undefined when it is one.
 */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `prefix "${prefix}" is not a DNS subdomain (lower case alphanumerics, '-' and '.', at most 253 characters)`;
  if (name === '' || name.length > 63 || !NAME_PART.test(name))
    return `name "${name}" must be 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  return undefined;
}

/** Why `value` is not a Kubernetes label value (empty, or at most 63 characters like a key name). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  return value.length > 63 || !NAME_PART.test(value)
    ? "must be empty or 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
    : undefined;
}

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
      const keyProblem = labelKeyProblem(key);
      if (keyProblem)
        return err({ field: `matchLabels.${key}`, value: key, reason: `invalid label key: ${keyProblem}` });
      const valueProblem = labelValueProblem(value);
      if (valueProblem)
        return err({ field: `matchLabels.${key}`, value, reason: `invalid label value: ${valueProblem}` });
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
      const keyProblem = labelKeyProblem(expr.key);
      if (keyProblem)
        return err({ field: `${at}.key`, value: expr.key, reason: `invalid label key: ${keyProblem}` });
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
      const badValue = Array.isArray(values)
        ? values.findIndex((v) => labelValueProblem(v) !== undefined)
        : -1;
      if (badValue >= 0)
        return err({
          field: `${at}.values[${badValue}]`,
          value: values![badValue],
          reason: `invalid label value: ${labelValueProblem(values![badValue])}`,
        });
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
