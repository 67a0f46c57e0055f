import { describe, expect, it } from '@jest/globals';
import {
  arpReply,
  decodeFrame,
  gratuitousArp,
  ipv4ToBytes,
  ipv6ToBytes,
  neighborAdvertisement,
  parseMac,
} from '@metallb-ts/l2-proto';
import {
  answersFrom,
  must,
  parseAskOutput,
  requestFrames,
  WireAsker,
  type Asker,
} from '../src/wire/owners.js';

// The soak's one-round wire probe, lab-free: the frames it asks with and how it reads answers
// (our own codec), then ask.py's rounds inside a network namespace of this test's own (only its
// loopback: a frame sent there comes back as received).
const asker: Asker = { mac: '02:00:00:00:01:00', ipv4: '203.0.113.100', ipv6: '2001:db8:1::100' };
const NODE_A = '02:00:00:00:00:0a';
const NODE_B = '02:00:00:00:00:0b';
const mac = (m: string) => must(parseMac(m), m);
const v4 = (ip: string) => must(ipv4ToBytes(ip), ip);
const v6 = (ip: string) => must(ipv6ToBytes(ip), ip);

const arpFrom = (node: string, ip: string) =>
  arpReply({ ourMac: mac(node), vip: v4(ip), askerMac: mac(asker.mac), askerIp: v4(asker.ipv4) });
const naFrom = (node: string, ip: string, solicited = true) =>
  neighborAdvertisement({
    ourMac: mac(node),
    target: v6(ip),
    toMac: mac(asker.mac),
    toIp: v6(asker.ipv6),
    solicited,
    override: true,
    router: false,
  });

describe('wire owners: one round of requests, every answer counted', () => {
  it('asks with one ARP request or Neighbor Solicitation per address, from the asker', () => {
    const frames = requestFrames(asker, ['203.0.113.200', '2001:db8:1::200']);
    const [arp, ns] = frames.map((f) => decodeFrame(f));
    expect(arp).toMatchObject({ ok: true, value: { kind: 'arp', arp: { operation: 'request' } } });
    expect(ns).toMatchObject({ ok: true, value: { kind: 'ndp-ns' } });
    if (!arp?.ok || arp.value.kind !== 'arp' || !ns?.ok || ns.value.kind !== 'ndp-ns') return;
    expect(arp.value.arp.targetIp).toEqual(v4('203.0.113.200'));
    expect(arp.value.arp.senderIp).toEqual(v4(asker.ipv4));
    expect(ns.value.ns.target).toEqual(v6('2001:db8:1::200'));
  });

  it('counts answers to the asker by address: one owner, two owners, none; announcements and garbage are no answer', () => {
    const ips = ['203.0.113.200', '203.0.113.201', '203.0.113.202', '2001:db8:1::200'];
    const got = answersFrom(asker, ips, [
      arpFrom(NODE_A, '203.0.113.200'),
      arpFrom(NODE_A, '203.0.113.201'),
      arpFrom(NODE_B, '203.0.113.201'),
      gratuitousArp({ mac: mac(NODE_B), ip: v4('203.0.113.202'), kind: 'reply' }),
      naFrom(NODE_B, '2001:db8:1:0::200'),
      naFrom(NODE_A, '2001:db8:1::200', false),
      arpFrom(NODE_A, '203.0.113.99'),
      Buffer.from('not a frame'),
    ]);
    expect(Object.fromEntries(got)).toEqual({
      '203.0.113.200': [NODE_A],
      '203.0.113.201': [NODE_A, NODE_B],
      '203.0.113.202': [],
      '2001:db8:1::200': [NODE_B],
    });
  });

  it('ask.py, round after round on one socket: what its link delivers comes back, ARP and NA only', async () => {
    // Its own network namespace with only loopback: every frame ask.py sends comes back to it as
    // received, so the answers it "asks" with are what it captures.
    const unshared = ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'ask'];
    const wire = new WireAsker(unshared, 'lo');
    const answers = [arpFrom(NODE_A, '203.0.113.200'), naFrom(NODE_B, '2001:db8:1::200')];
    // An IPv4 frame (ethertype 0800) with no payload worth reading: dropped by the filter.
    const ipv4Frame = Buffer.concat([
      mac(asker.mac),
      mac(NODE_A),
      Buffer.from([0x08, 0x00]),
      Buffer.alloc(46),
    ]);
    try {
      for (let round = 0; round < 2; round++) {
        const out = await wire.round(() => [...answers, ipv4Frame], 200);
        expect({ round, mac: out.mac, sent: out.sent }).toEqual({ round, mac: '00:00:00:00:00:00', sent: 3 });
        expect(out.frames.map((f) => f.toString('hex'))).toEqual(answers.map((f) => f.toString('hex')));
        expect(
          Object.fromEntries(answersFrom(asker, ['203.0.113.200', '2001:db8:1::200'], out.frames)),
        ).toEqual({
          '203.0.113.200': [NODE_A],
          '2001:db8:1::200': [NODE_B],
        });
      }
      // Requests from the link's own MAC (all zeros on loopback) come back as requests: nobody answers.
      expect(Object.fromEntries(await wire.owners(['127.0.0.1', '::1'], 100, asker))).toEqual({
        '127.0.0.1': [],
        '::1': [],
      });
    } finally {
      wire.close();
    }
  });

  it('an asker that cannot start fails the round with what it said, and the next round tries again', async () => {
    const broken = new WireAsker(['sh', '-c', 'echo "no such link" >&2; exit 3', 'ask'], 'nope0');
    await expect(broken.owners(['203.0.113.1'], 100, asker)).rejects.toThrow(
      /ended \(exit 3\).*no such link/s,
    );
    await expect(broken.owners(['203.0.113.1'], 100, asker)).rejects.toThrow(/ended \(exit 3\)/);
  });

  it('a missing or broken result line is an error that shows what was printed', () => {
    expect(() => parseAskOutput('Traceback (most recent call last)')).toThrow(
      /printed no result line: "Traceback/,
    );
    expect(() => parseAskOutput('{"sent":1}')).toThrow(/unexpected line/);
  });
});
