import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { decodeFrame, parseMac } from '@metallb-ts/l2-proto';
import { Announcer, announcementFrames } from '../src/announcer.js';

const mac = (() => {
  const r = parseMac('02:00:00:00:00:11');
  if (!r.ok) throw new Error('bad mac');
  return r.value;
})();

describe('announcementFrames', () => {
  it('IPv4: a gratuitous request and reply, both sender=target=VIP from our MAC', () => {
    const frames = announcementFrames('203.0.113.200', mac).map((f) => decodeFrame(f));
    expect(frames.map((f) => f.ok && f.value.kind)).toEqual(['arp', 'arp']);
    for (const f of frames) {
      if (!f.ok || f.value.kind !== 'arp') continue;
      expect(f.value.arp.senderIp.equals(f.value.arp.targetIp)).toBe(true);
      expect(f.value.arp.senderMac.equals(mac)).toBe(true);
    }
  });
  it('IPv6: an MLDv2 join and an unsolicited NA with Override', () => {
    const frames = announcementFrames('2001:db8:1::200', mac).map((f) => decodeFrame(f));
    expect(frames.map((f) => f.ok && f.value.kind)).toEqual(['mldv2-report', 'ndp-na']);
    const na = frames[1];
    if (na?.ok && na.value.kind === 'ndp-na') {
      expect(na.value.na.override).toBe(true);
      expect(na.value.na.solicited).toBe(false);
    }
  });
});

describe('Announcer', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('bursts on takeover, refreshes while held, and stops on stop()', () => {
    const sent: Buffer[] = [];
    const a = new Announcer({ burstMs: [0, 100], refreshMs: 1000 });
    const link = { name: 'data0', mac, inject: (f: Buffer) => sent.push(f) };
    a.start('203.0.113.200', link);
    a.start('203.0.113.200', link); // idempotent
    jest.advanceTimersByTime(0);
    expect(sent).toHaveLength(2);
    jest.advanceTimersByTime(100);
    expect(sent).toHaveLength(4);
    jest.advanceTimersByTime(1000);
    expect(sent).toHaveLength(6);
    jest.advanceTimersByTime(1000);
    expect(sent).toHaveLength(8);
    a.stop('203.0.113.200', 'data0');
    jest.advanceTimersByTime(5000);
    expect(sent).toHaveLength(8);
    expect(a.announcing()).toEqual([]);
  });
});
