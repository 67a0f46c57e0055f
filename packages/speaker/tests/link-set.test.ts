import { describe, expect, it } from '@jest/globals';
import { createLogger, createRegistry } from '@metallb-ts/k8s-runtime';
import { LinkSet } from '../src/link-set.js';
import { SpeakerMetrics } from '../src/speaker-metrics.js';
import { FakeLink, VIP } from './speaker-harness.js';

const ours = (ip: string, on: string) => ip === VIP && on === 'data0';

function linkSet(
  link: FakeLink,
  announcedOn = ours,
): { set: LinkSet; logs: { msg: string; interface?: string; why?: string }[] } {
  const logs: { msg: string; interface?: string; why?: string }[] = [];
  const set = new LinkSet({
    exclude: [],
    access: link.access,
    logger: createLogger({
      component: 'speaker',
      level: 'info',
      write: (l) => void logs.push(JSON.parse(l)),
    }),
    metrics: new SpeakerMetrics(createRegistry({ defaultMetrics: false }), 'node-a'),
    announcedOn,
  });
  return { set, logs };
}

const data0 = () =>
  new FakeLink({
    name: 'data0',
    mac: '02:00:00:00:0a:01',
    up: true,
    noArp: false,
    enslaved: false,
    loopback: false,
  });

describe('LinkSet.check', () => {
  it('keeps a capture whose link did not change: no reopen, nothing reported', () => {
    const link = data0();
    const { set } = linkSet(link);
    set.sync(true);
    expect(set.check()).toBeUndefined();
    expect(link.opens).toBe(1);
    expect(link.closed).toBe(false);
  });

  it('reopens the capture of a link that went down and came back, and answers on it again', () => {
    const link = data0();
    const { set, logs } = linkSet(link);
    set.sync(true);
    link.flap();
    // The deaf capture: a request gets no answer until the check reopens it.
    expect(link.arpFrom(VIP, 'reply', link.ask(VIP))).toEqual([]);

    expect(set.check()).toEqual({ closed: ['data0'] });
    expect(link.opens).toBe(2);
    expect(link.arpFrom(VIP, 'reply', link.ask(VIP))).toEqual(['02:00:00:00:0a:01']);
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'reopening capture',
        interface: 'data0',
        why: 'carrier changed 2 time(s) since capture opened',
      }),
    );
    // The new capture's stamp is the one read at reopen: the next check is quiet.
    expect(set.check()).toBeUndefined();
    expect(link.opens).toBe(2);
  });

  it('waits while the link is still down, then reopens once it is up', () => {
    const link = data0();
    const { set } = linkSet(link);
    set.sync(true);
    link.stamp = { ...link.stamp, carrierChanges: link.stamp.carrierChanges + 1, up: false };
    expect(set.check()).toBeUndefined();
    expect(link.opens).toBe(1);
    link.stamp = { ...link.stamp, carrierChanges: link.stamp.carrierChanges + 1, up: true };
    expect(set.check()).toEqual({ closed: ['data0'] });
    expect(link.opens).toBe(2);
  });

  it('reopens a capture that reported an error at the next check, not only at the full rescan', () => {
    const link = data0();
    let broken = true;
    const { set, logs } = linkSet(link, (ip, on) => {
      if (broken) throw new Error('handler failed');
      return ours(ip, on);
    });
    set.sync(true);
    // A handler that throws is reported as a capture error (as pcap-link does).
    link.ask(VIP);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'capture error', interface: 'data0' }));
    broken = false;
    expect(set.check()).toEqual({ closed: ['data0'] });
    expect(link.arpFrom(VIP, 'reply', link.ask(VIP))).toEqual(['02:00:00:00:0a:01']);
    expect(link.opens).toBe(2);
  });
});
