import { describe, expect, it } from '@jest/globals';
import { labelKeyProblem, labelValueProblem, matchesSelector, validateSelector } from '../src/index.js';
import type { LabelSelector } from '../src/index.js';

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each<[string, LabelSelector, boolean]>([
    ['empty selector matches everything', {}, true],
    ['matchLabels hit', { matchLabels: { app: 'web' } }, true],
    ['matchLabels miss', { matchLabels: { app: 'db' } }, false],
    ['matchLabels on a missing key', { matchLabels: { zone: 'a' } }, false],
    ['In hit', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, true],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [
      'NotIn on a missing key matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'all requirements must hold',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] },
      false,
    ],
    ['toString is not a label', { matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, false],
  ])('%s', (_name, selector, want) => expect(matchesSelector(selector, labels)).toBe(want));
});

describe('validateSelector', () => {
  it('names the field that is wrong', () => {
    const r = validateSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatchObject({
        field: 'matchExpressions[0].values',
        reason: 'must be non-empty for operator In',
      });
    const s = validateSelector({ matchExpressions: [{ key: 'a', operator: 'Maybe' }] });
    expect(!s.ok && s.error.field).toBe('matchExpressions[0].operator');
    expect(validateSelector({ matchLabels: { a: 'b' } }).ok).toBe(true);
  });
});

describe('label key and value syntax (as the API server checks selectors)', () => {
  it.each<[string, unknown, string | undefined]>([
    ['plain key', { matchLabels: { app: 'web' } }, undefined],
    ['prefixed key', { matchLabels: { 'kubernetes.io/hostname': 'node-1' } }, undefined],
    ['empty value', { matchLabels: { app: '' } }, undefined],
    ['space in key', { matchLabels: { 'my app': 'web' } }, 'matchLabels.my app'],
    ['upper case prefix', { matchLabels: { 'Example.com/app': 'web' } }, 'matchLabels.Example.com/app'],
    ['empty prefix', { matchLabels: { '/app': 'web' } }, 'matchLabels./app'],
    ['64-character name', { matchLabels: { ['a'.repeat(64)]: 'x' } }, `matchLabels.${'a'.repeat(64)}`],
    ['value with a slash', { matchLabels: { app: 'a/b' } }, 'matchLabels.app'],
    ['value ending in a dash', { matchLabels: { app: 'web-' } }, 'matchLabels.app'],
    [
      'expression key with a space',
      { matchExpressions: [{ key: 'a b', operator: 'Exists' }] },
      'matchExpressions[0].key',
    ],
    [
      'expression value with a space',
      { matchExpressions: [{ key: 'app', operator: 'In', values: ['ok', 'not ok'] }] },
      'matchExpressions[0].values[1]',
    ],
  ])('%s', (_name, selector, field) => {
    const r = validateSelector(selector);
    if (field === undefined) expect(r.ok).toBe(true);
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.field).toBe(field);
        expect(r.error.reason).toMatch(/^invalid label (key|value): /);
      }
    }
  });

  it('explains what is wrong with a key', () => {
    expect(labelKeyProblem('a_b.c-d')).toBeUndefined();
    expect(labelKeyProblem('-a')).toMatch(/starting and ending with an alphanumeric/);
    expect(labelKeyProblem('EXAMPLE.com/a')).toMatch(/prefix "EXAMPLE.com" is not a DNS subdomain/);
    expect(labelValueProblem('x'.repeat(63))).toBeUndefined();
    expect(labelValueProblem('x'.repeat(64))).toMatch(/1-63/);
  });
});
