import { describe, expect, it } from '@jest/globals';
import { readAnnounceTiming } from '../src/announce-env.js';
import { DEFAULT_ANNOUNCER_OPTIONS } from '../src/announcer.js';

describe('readAnnounceTiming', () => {
  it('defaults to the dense burst and a 30 s refresh', () => {
    expect(readAnnounceTiming({})).toEqual({
      ok: true,
      value: { burstMs: DEFAULT_ANNOUNCER_OPTIONS.burstMs, refreshMs: 30_000 },
    });
  });
  it('reads both variables', () => {
    expect(readAnnounceTiming({ ANNOUNCE_BURST_MS: '0, 100,1000', ANNOUNCE_REFRESH_MS: '0' })).toEqual({
      ok: true,
      value: { burstMs: [0, 100, 1000], refreshMs: 0 },
    });
  });
  it('names the variable and the bad value', () => {
    const a = readAnnounceTiming({ ANNOUNCE_BURST_MS: '0,soon' });
    expect(a.ok || a.error).toContain('ANNOUNCE_BURST_MS "0,soon": "soon"');
    const b = readAnnounceTiming({ ANNOUNCE_REFRESH_MS: '10' });
    expect(b.ok || b.error).toContain('ANNOUNCE_REFRESH_MS "10" is below 1000');
  });
});
