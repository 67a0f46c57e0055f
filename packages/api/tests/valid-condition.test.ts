import { describe, expect, it } from '@jest/globals';
import {
  buildConfig,
  hasCondition,
  setCondition,
  validCondition,
  validConditionTells,
  VALID_CONDITION,
  type Condition,
  type ObjectVerdict,
} from '../src/index.js';

const overlap = {
  message:
    'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.0/30": overlaps 203.0.113.0/30 of pool "a"',
};
const missingPool = {
  message: 'L2Advertisement metallb-system/ad: spec.ipAddressPools[0] "nope": no such IPAddressPool',
  partial: true,
};

describe('validCondition', () => {
  const cases: [string, ObjectVerdict, Partial<Condition>][] = [
    [
      'no errors: True, Serving',
      { errors: [], servingLastValid: false, generation: 3 },
      { status: 'True', reason: 'Serving', message: 'valid and in use', observedGeneration: 3 },
    ],
    [
      'an error, nothing served: False, InvalidConfiguration, the error quoted',
      { errors: [overlap], servingLastValid: false, generation: 2 },
      {
        status: 'False',
        reason: 'InvalidConfiguration',
        message: `${overlap.message}; not in use`,
        observedGeneration: 2,
      },
    ],
    [
      'an error while the last valid spec is served: False, ServingLastValidSpec',
      { errors: [overlap], servingLastValid: true, generation: 5 },
      {
        status: 'False',
        reason: 'ServingLastValidSpec',
        message: `${overlap.message}; the last valid spec stays in use until this is fixed`,
      },
    ],
    [
      'only partial errors: False, ServingValidPart',
      { errors: [missingPool], servingLastValid: false },
      {
        status: 'False',
        reason: 'ServingValidPart',
        message: `${missingPool.message}; the rest of the object is in use`,
      },
    ],
    [
      'a partial and a blocking error: the blocking one decides',
      { errors: [missingPool, overlap], servingLastValid: false },
      { status: 'False', reason: 'InvalidConfiguration' },
    ],
  ];
  it.each(cases)('%s', (_name, verdict, want) => {
    const c = validCondition(verdict);
    expect(c).toMatchObject({ type: VALID_CONDITION, ...want });
    if (verdict.generation === undefined) expect(c).not.toHaveProperty('observedGeneration');
  });

  it('the message is one line and quotes at most three errors, counting the rest', () => {
    const errors = Array.from({ length: 5 }, (_, i) => ({ message: `IPAddressPool ns/p: f "v\n${i}": bad` }));
    const { message } = validCondition({ errors, servingLastValid: false });
    expect(message).not.toMatch(/\n/);
    expect(message).toBe(
      'IPAddressPool ns/p: f "v 0": bad; IPAddressPool ns/p: f "v 1": bad; IPAddressPool ns/p: f "v 2": bad; ' +
        "and 2 more (see the object's events); not in use",
    );
  });

  it('names the object, field, value and reason of a real buildConfig error', () => {
    const pool = (name: string, created: string) => ({
      apiVersion: 'metallb.io/v1beta1' as const,
      kind: 'IPAddressPool' as const,
      metadata: { name, namespace: 'metallb-system', creationTimestamp: created },
      spec: { addresses: ['203.0.113.0/30'] },
    });
    const { errors } = buildConfig({
      addressPools: [],
      ipAddressPools: [pool('old', '2024-01-01T00:00:00Z'), pool('new', '2024-01-02T00:00:00Z')],
      l2Advertisements: [],
    });
    const c = validCondition({ errors, servingLastValid: false });
    expect(c.reason).toBe('InvalidConfiguration');
    expect(c.message).toContain('IPAddressPool metallb-system/new: spec.addresses');
    expect(c.message).toContain('203.0.113.0/30');
    expect(c.message).toContain('old');
  });
});

describe('setCondition / hasCondition', () => {
  const at = '2024-01-01T00:00:00Z';
  const later = '2024-01-02T00:00:00Z';
  const other: Condition = {
    type: 'Other',
    status: 'True',
    reason: 'R',
    message: 'm',
    lastTransitionTime: at,
  };
  const valid: Condition = {
    type: 'Valid',
    status: 'True',
    reason: 'Serving',
    message: 'valid and in use',
    observedGeneration: 1,
    lastTransitionTime: at,
  };

  const cases: [string, Condition[] | undefined, Omit<Condition, 'lastTransitionTime'>, Condition[]][] = [
    [
      'a new type is appended with now',
      [other],
      { type: 'Valid', status: 'True', reason: 'Serving', message: 'ok' },
      [other, { type: 'Valid', status: 'True', reason: 'Serving', message: 'ok', lastTransitionTime: later }],
    ],
    [
      'same status, new generation and message: the transition time is kept',
      [valid, other],
      { ...valid, observedGeneration: 2, message: 'still fine' },
      [{ ...valid, observedGeneration: 2, message: 'still fine' }, other],
    ],
    [
      'a status change moves the transition time',
      [other, valid],
      { type: 'Valid', status: 'False', reason: 'InvalidConfiguration', message: 'x', observedGeneration: 2 },
      [
        other,
        {
          type: 'Valid',
          status: 'False',
          reason: 'InvalidConfiguration',
          message: 'x',
          observedGeneration: 2,
          lastTransitionTime: later,
        },
      ],
    ],
    [
      'no conditions yet',
      undefined,
      { type: 'Valid', status: 'True', reason: 'Serving', message: 'ok' },
      [{ type: 'Valid', status: 'True', reason: 'Serving', message: 'ok', lastTransitionTime: later }],
    ],
  ];
  it.each(cases)('%s', (_name, before, next, want) => {
    const frozen = structuredClone(before);
    expect(setCondition(before, next, later)).toEqual(want);
    expect(before).toEqual(frozen);
  });

  it('hasCondition compares everything but the transition time', () => {
    const { lastTransitionTime: _t, ...decided } = valid;
    expect(hasCondition([other, valid], decided)).toBe(true);
    expect(hasCondition([other, valid], { ...decided, message: 'other' })).toBe(false);
    expect(hasCondition([other, valid], { ...decided, observedGeneration: 2 })).toBe(false);
    expect(hasCondition([other, valid], { ...decided, status: 'False' })).toBe(false);
    expect(hasCondition([other, valid], { ...decided, reason: 'Other' })).toBe(false);
    expect(hasCondition([other], decided)).toBe(false);
    expect(hasCondition(undefined, decided)).toBe(false);
  });
});

describe('validConditionTells', () => {
  const told = 'L2Advertisement metallb-system/adv-1: spec.ipAddressPools[0] "gone": no such pool';
  /** The condition message validCondition writes for these errors at generation 3. */
  const quoting = (...messages: string[]) =>
    validCondition({
      errors: messages.map((message) => ({ message })),
      servingLastValid: false,
      generation: 3,
    }).message;
  const stored = (
    message: string,
    observedGeneration: number | undefined,
    status: 'True' | 'False' = 'False',
  ) => ({
    metadata: { generation: 3 },
    status: {
      conditions: [
        {
          type: VALID_CONDITION,
          status,
          reason: 'ServingValidPart',
          message,
          lastTransitionTime: '2026-01-01T00:00:00Z',
          ...(observedGeneration === undefined ? {} : { observedGeneration }),
        },
      ],
    },
  });

  it('is true for an error the condition of this generation quotes, in any place of the list', () => {
    const message = quoting('first', told);
    expect(validConditionTells(stored(message, 3), told)).toBe(true);
    expect(validConditionTells(stored(message, 3), 'first')).toBe(true);
  });

  it('is false when the condition is of another generation, True, absent, or quotes another error', () => {
    const message = quoting(told);
    expect(validConditionTells(stored(message, 2), told)).toBe(false);
    expect(validConditionTells(stored(message, undefined), told)).toBe(false);
    expect(validConditionTells(stored(message, 3, 'True'), told)).toBe(false);
    expect(validConditionTells({ metadata: { generation: 3 } }, told)).toBe(false);
    // A prefix of a quoted error is another error, not the same one.
    expect(validConditionTells(stored(message, 3), told.slice(0, 40))).toBe(false);
  });

  it('is false for an error past the quoted ones: only an Event tells those', () => {
    const message = quoting('error a', 'error b', 'error c', 'error d');
    expect(validConditionTells(stored(message, 3), 'error c')).toBe(true);
    expect(validConditionTells(stored(message, 3), 'error d')).toBe(false);
  });

  it('folds a multi-line error the way the condition quotes it', () => {
    const multi = 'pool p: spec.addresses[0]\n  "x": not a CIDR or range';
    const message = quoting(multi);
    expect(validConditionTells(stored(message, 3), multi)).toBe(true);
  });
});
