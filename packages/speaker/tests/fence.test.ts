import { describe, expect, it } from '@jest/globals';
import { selfAlive } from '../src/fence.js';

describe('selfAlive', () => {
  const base = { lastRenewedMs: 10_000, leaseDurationMs: 3000, renewMs: 1000, watchShowsSelf: true };

  it('alive while the last renewal is younger than the lease minus one renewal period', () => {
    expect(selfAlive({ ...base, now: 10_000 })).toBe(true);
    expect(selfAlive({ ...base, now: 12_000 })).toBe(true);
  });

  it('fences a renewal period before peers can consider the lease expired', () => {
    expect(selfAlive({ ...base, now: 12_001 })).toBe(false);
    expect(selfAlive({ ...base, now: 12_999 })).toBe(false);
  });

  it('fences when the membership watch does not show our own lease, however fresh our renewals', () => {
    expect(selfAlive({ ...base, now: 10_000, watchShowsSelf: false })).toBe(false);
  });
});
