import { describe, expect, it } from '@jest/globals';
import { announceVerdict, decide, type MajorityTest } from '../src/index.js';

const test = (reached: number, total: number, lowestOnOurSide = false): MajorityTest => ({
  label: 't',
  reached,
  total,
  lowestOnOurSide,
});

describe('announceVerdict', () => {
  it('majority announces, minority is fenced, whatever the other test says', () => {
    expect(announceVerdict({ phase: 'member', tests: [test(2, 3), test(3, 5)] })).toEqual({
      ok: true,
      basis: 'majority',
    });
    expect(announceVerdict({ phase: 'member', tests: [test(2, 3), test(2, 5)] })).toMatchObject({
      ok: false,
      reason: 'fenced-minority',
      detail: 't: reaches 2 of 5, no majority',
    });
  });

  it('the phase comes first: joining, declared dead and left never announce', () => {
    for (const phase of ['joining', 'declared-dead', 'left'] as const) {
      expect(announceVerdict({ phase, tests: [test(3, 3)] })).toMatchObject({ ok: false, reason: phase });
    }
  });

  it('a tie without a tie-breaker goes to the half holding the lowest-named member', () => {
    expect(decide([test(1, 2, true)])).toEqual({ ok: true, basis: 'lowest-name' });
    expect(decide([test(1, 2, false)])).toMatchObject({ ok: false, reason: 'fenced-tie' });
    expect(decide([test(2, 4, true), test(3, 3)])).toEqual({ ok: true, basis: 'lowest-name' });
  });

  it('with a tie-breaker only its answer counts, and it is asked only in a tie', () => {
    let asked = 0;
    const answer = (a: 'granted' | 'denied' | 'unknown') => () => {
      asked++;
      return a;
    };
    expect(decide([test(1, 2, true)], answer('denied'))).toMatchObject({ ok: false, reason: 'fenced-tie' });
    expect(decide([test(1, 2, false)], answer('granted'))).toEqual({ ok: true, basis: 'tie-breaker' });
    expect(decide([test(1, 2, true)], answer('unknown'))).toMatchObject({
      ok: false,
      detail: expect.stringContaining('unknown'),
    });
    expect(asked).toBe(3);
    decide([test(2, 3)], answer('granted'));
    decide([test(1, 3)], answer('granted'));
    expect(asked).toBe(3);
  });
});
