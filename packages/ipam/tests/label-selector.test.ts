import { describe, expect, it } from '@jest/globals';
import { matchesSelector, validateSelector } from '../src/index.js';
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
