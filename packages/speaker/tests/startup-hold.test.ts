import { describe, expect, it } from '@jest/globals';
import { startupHold } from '../src/startup-hold.js';

const nodes = ['node-1', 'node-2', 'node-3'];
describe('startupHold', () => {
  it('holds until our own lease is visible', () => {
    expect(
      startupHold({ now: 0, selfSeenAt: undefined, settleMs: 1000, alive: new Set(nodes), nodes }),
    ).toEqual({ hold: true });
  });
  it('does not wait when every node has a live speaker', () => {
    expect(startupHold({ now: 10, selfSeenAt: 10, settleMs: 1000, alive: new Set(nodes), nodes }).hold).toBe(
      false,
    );
  });
  it('waits for the settle time while peers are missing, then goes ahead without them', () => {
    const partial = new Set(['node-1']);
    expect(startupHold({ now: 500, selfSeenAt: 100, settleMs: 1000, alive: partial, nodes })).toEqual({
      hold: true,
      untilMs: 1100,
    });
    expect(startupHold({ now: 1100, selfSeenAt: 100, settleMs: 1000, alive: partial, nodes }).hold).toBe(
      false,
    );
  });
});
