import { describe, expect, it } from '@jest/globals';
import {
  answerChangesAt,
  DEFAULT_TIE_BREAK_TIMING,
  grantedUntil,
  observe,
  planAttempt,
  tieBreakAnswer,
  tieBreakTimingProblem,
  type LeaseRecord,
  type TieBreakTiming,
} from '../src/tie-break.js';

const T: TieBreakTiming = {
  leaseDurationMs: 5000,
  safetyMarginMs: 1500,
  renewIntervalMs: 1000,
  retryIntervalMs: 500,
};
const held = (holder: string, renewTime = 't1'): LeaseRecord => ({ holder, renewTime, durationMs: 5000 });

describe('tie-break timing', () => {
  it('the defaults are safe', () => expect(tieBreakTimingProblem(DEFAULT_TIE_BREAK_TIMING)).toBeUndefined());
  it.each([
    [
      { leaseDurationMs: 2500 },
      'leaseDurationMs must be whole seconds >= 1000 (the Lease holds seconds), got 2500',
    ],
    [{ safetyMarginMs: 0 }, 'safetyMarginMs must be in (0, leaseDurationMs = 5000), got 0'],
    [{ safetyMarginMs: 5000 }, 'safetyMarginMs must be in (0, leaseDurationMs = 5000), got 5000'],
    [
      { renewIntervalMs: 3500 },
      'renewIntervalMs (3500) must be > 0 and below leaseDurationMs - safetyMarginMs (3500), or a healthy holder would lapse between renewals',
    ],
    [{ retryIntervalMs: 0 }, 'retryIntervalMs must be > 0, got 0'],
  ] as const)('%j is refused', (change, why) => {
    expect(tieBreakTimingProblem({ ...T, ...change })).toBe(`tie-break ${why}`);
  });
});

describe('observe', () => {
  it('keeps the first time a holder and renewTime were seen; a renewal or a new holder restarts it', () => {
    const first = observe(undefined, held('node-a'), 100);
    expect(first).toEqual({ holder: 'node-a', renewTime: 't1', durationMs: 5000, since: 100 });
    expect(observe(first, held('node-a'), 900)).toBe(first);
    expect(observe(first, held('node-a', 't2'), 900)?.since).toBe(900);
    expect(observe(first, held('node-b'), 950)?.since).toBe(950);
  });
  it('a Lease that vanished keeps what was seen: its holder is still waited out', () => {
    const first = observe(undefined, held('node-a'), 100);
    expect(observe(first, undefined, 200)).toBe(first);
    expect(observe(undefined, undefined, 200)).toBeUndefined();
  });
});

describe('planAttempt', () => {
  it('creates a missing Lease nobody was seen holding', () => {
    expect(planAttempt('node-b', undefined, undefined, 0)).toEqual({ kind: 'create' });
  });
  it('takes a released Lease at once, and renews its own', () => {
    const released = held('');
    expect(planAttempt('node-b', released, observe(undefined, released, 0), 0)).toEqual({
      kind: 'take',
      renewal: false,
    });
    const ours = held('node-b');
    expect(planAttempt('node-b', ours, observe(undefined, ours, 0), 0)).toEqual({
      kind: 'take',
      renewal: true,
    });
  });
  it('waits out another holder for a full duration from when its renewTime was first seen, by our clock', () => {
    const other = held('node-a');
    const seen = observe(undefined, other, 1000);
    expect(planAttempt('node-b', other, seen, 5999)).toEqual({ kind: 'wait', holder: 'node-a', until: 6000 });
    expect(planAttempt('node-b', other, seen, 6000)).toEqual({ kind: 'take', renewal: false });
    // A renewal seen at 4000 starts the wait over.
    const renewed = observe(seen, held('node-a', 't2'), 4000);
    expect(planAttempt('node-b', held('node-a', 't2'), renewed, 6000)).toMatchObject({
      kind: 'wait',
      until: 9000,
    });
  });
  it('a Lease deleted under a live holder is not re-created before that holder lapsed', () => {
    const seen = observe(undefined, held('node-a'), 1000);
    expect(planAttempt('node-b', undefined, seen, 3000)).toEqual({
      kind: 'wait',
      holder: 'node-a',
      until: 6000,
    });
    expect(planAttempt('node-b', undefined, seen, 6000)).toEqual({ kind: 'create' });
  });
});

describe('tieBreakAnswer', () => {
  it('granted only until the last hold was SENT + duration - margin, whatever the answers after', () => {
    const s = { heldSentAt: 1000, heldAs: 'node-b', observed: observe(undefined, held('node-b'), 1040) };
    expect(grantedUntil(1000, T)).toBe(4500);
    expect(tieBreakAnswer(s, 'node-b', 4499, T)).toBe('granted');
    expect(tieBreakAnswer(s, 'node-b', 4500, T)).toBe('unknown');
    expect(answerChangesAt(s, 'node-b', 2000, T)).toBe(4500);
    // A hold as one side of the tie grants nothing to another (the side shrank or changed).
    expect(tieBreakAnswer(s, 'node-a,node-b', 2000, T)).toBe('denied');
  });
  it('denied while another node holds it, then unknown once that lapsed', () => {
    const s = { observed: observe(undefined, held('node-a'), 1000) };
    expect(tieBreakAnswer(s, 'node-b', 5999, T)).toBe('denied');
    expect(tieBreakAnswer(s, 'node-b', 6000, T)).toBe('unknown');
    expect(answerChangesAt(s, 'node-b', 2000, T)).toBe(6000);
    expect(answerChangesAt(s, 'node-b', 6000, T)).toBeUndefined();
  });
  it('unknown with no answer, or a released Lease', () => {
    expect(tieBreakAnswer({}, 'node-b', 0, T)).toBe('unknown');
    expect(tieBreakAnswer({ observed: observe(undefined, held(''), 0) }, 'node-b', 1, T)).toBe('unknown');
  });
  it('a holder cut off from the API server stops believing before the other side may take the Lease', () => {
    // node-a sends its last successful renewal at 10_000; the API server writes it no earlier, and
    // node-b sees it no earlier (here: at once, the tightest case).
    const sentAt = 10_000;
    const seenByB = observe(undefined, held('node-a', 'last'), sentAt);
    let aStops = Infinity;
    let bTakes = Infinity;
    for (let now = sentAt; now < sentAt + 10_000; now += 10) {
      if (
        aStops === Infinity &&
        tieBreakAnswer({ heldSentAt: sentAt, heldAs: 'node-a' }, 'node-a', now, T) !== 'granted'
      )
        aStops = now;
      if (bTakes === Infinity && planAttempt('node-b', held('node-a', 'last'), seenByB, now).kind === 'take')
        bTakes = now;
    }
    expect(bTakes - aStops).toBe(T.safetyMarginMs);
  });
});
