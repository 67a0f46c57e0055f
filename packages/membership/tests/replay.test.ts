import { describe, expect, it } from '@jest/globals';
import { REPLAY_WINDOW, ReplayWindow } from '../src/index.js';

describe('ReplayWindow', () => {
  const verdicts = (w: ReplayWindow, steps: Array<[string, number, number]>) =>
    steps.map(([s, inc, seq]) => (w.admit(s, inc, seq).ok ? 'ok' : 'replayed'));

  it('accepts each (incarnation, sequence) once, in any order within the window', () => {
    const w = new ReplayWindow();
    expect(
      verdicts(w, [
        ['a', 5, 10],
        ['a', 5, 10], // the same packet again
        ['a', 5, 12],
        ['a', 5, 11], // late but inside the window
        ['a', 5, 11],
        ['b', 5, 10], // another sender has its own window
      ]),
    ).toEqual(['ok', 'replayed', 'ok', 'ok', 'replayed', 'ok']);
  });

  it('refuses older incarnations and packets that fell out of the window', () => {
    const w = new ReplayWindow();
    w.admit('a', 5, 1000);
    expect(w.admit('a', 4, 2000)).toMatchObject({
      ok: false,
      error: { reason: 'replayed', field: 'incarnation' },
    });
    expect(w.admit('a', 5, 1000 - REPLAY_WINDOW)).toMatchObject({ ok: false, error: { field: 'sequence' } });
    expect(w.admit('a', 5, 1000 - REPLAY_WINDOW + 1).ok).toBe(true);
  });

  it('a higher incarnation (restart, refutation) starts a fresh window', () => {
    const w = new ReplayWindow();
    w.admit('a', 5, 1000);
    expect(
      verdicts(w, [
        ['a', 6, 1],
        ['a', 6, 1],
        ['a', 5, 1001],
      ]),
    ).toEqual(['ok', 'replayed', 'replayed']);
  });

  it('a jump larger than the window forgets the old bits', () => {
    const w = new ReplayWindow();
    w.admit('a', 1, 1);
    w.admit('a', 1, 1 + 10 * REPLAY_WINDOW);
    expect(w.admit('a', 1, 10 * REPLAY_WINDOW).ok).toBe(true);
    expect(w.admit('a', 1, 1 + 10 * REPLAY_WINDOW).ok).toBe(false);
  });
});
