import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  BROADCAST_MAC,
  decodeFrame,
  encodeArpFrame,
  gratuitousArp,
  ipv4ToBytes,
  ipv6ToBytes,
  neighborSolicitation,
  parseMac,
} from '@metallb-ts/l2-proto';
import { respond, type ResponderLink } from '../src/responder.js';

const mac = (s: string) => {
  const r = parseMac(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const v4 = (s: string) => {
  const r = ipv4ToBytes(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const v6 = (s: string) => {
  const r = ipv6ToBytes(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const link: ResponderLink = { name: 'data0', mac: mac('02:00:00:00:00:11') };
const client = mac('02:00:00:00:00:99');
const vip = '203.0.113.200';
const ours = (ip: string, l: string) => ip === vip && l === 'data0';

const arpRequest = (target: string, destination = BROADCAST_MAC) =>
  encodeArpFrame({
    destination,
    source: client,
    arp: {
      operation: 'request',
      senderMac: client,
      senderIp: v4('203.0.113.100'),
      targetMac: Buffer.alloc(6),
      targetIp: v4(target),
    },
  });

describe('respond (ARP)', () => {
  it('answers a broadcast request for an announced VIP with a unicast reply from our MAC', () => {
    const v = respond(arpRequest(vip), link, ours);
    expect(v.kind).toBe('reply');
    if (v.kind !== 'reply') return;
    const d = decodeFrame(v.frame);
    expect(d.ok && d.value.kind).toBe('arp');
    if (!d.ok || d.value.kind !== 'arp') return;
    expect(d.value.ethernet.destination.equals(client)).toBe(true);
    expect(d.value.ethernet.source.equals(link.mac)).toBe(true);
    expect(d.value.arp.operation).toBe('reply');
    expect(d.value.arp.senderMac.equals(link.mac)).toBe(true);
    expect(d.value.arp.senderIp.equals(v4(vip))).toBe(true);
    expect(d.value.arp.targetIp.equals(v4('203.0.113.100'))).toBe(true);
  });

  it('stays silent for addresses we do not announce, on other links, and for unicast to others', () => {
    expect(respond(arpRequest('203.0.113.201'), link, ours)).toEqual({
      kind: 'not-ours',
      ip: '203.0.113.201',
      protocol: 'arp',
    });
    expect(respond(arpRequest(vip), { ...link, name: 'data1' }, ours).kind).toBe('not-ours');
    expect(respond(arpRequest(vip, mac('02:00:00:00:00:12')), link, ours).kind).toBe('ignore');
    expect(respond(arpRequest(vip, link.mac), link, ours).kind).toBe('reply');
  });

  it('never answers gratuitous ARP, replies, or our own frames', () => {
    expect(respond(gratuitousArp({ mac: client, ip: v4(vip), kind: 'request' }), link, ours).kind).toBe(
      'ignore',
    );
    expect(respond(gratuitousArp({ mac: client, ip: v4(vip), kind: 'reply' }), link, ours).kind).toBe(
      'ignore',
    );
    expect(
      respond(gratuitousArp({ mac: link.mac, ip: v4('203.0.113.5'), kind: 'request' }), link, ours).kind,
    ).toBe('ignore');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        expect(['ignore', 'not-ours', 'reply']).toContain(respond(Buffer.from(bytes), link, () => true).kind);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('respond (NDP)', () => {
  const vip6 = '2001:db8:1::200';
  const ours6 = (ip: string) => ip === vip6;
  it('answers a Neighbor Solicitation for an announced VIP with a solicited, overriding NA', () => {
    const ns = neighborSolicitation({ mac: client, source: v6('2001:db8:1::100'), target: v6(vip6) });
    const v = respond(ns, link, ours6);
    expect(v.kind).toBe('reply');
    if (v.kind !== 'reply') return;
    const d = decodeFrame(v.frame);
    if (!d.ok || d.value.kind !== 'ndp-na') throw new Error(`expected NA, got ${JSON.stringify(d)}`);
    expect(d.value.na.solicited).toBe(true);
    expect(d.value.na.override).toBe(true);
    expect(d.value.na.target.equals(v6(vip6))).toBe(true);
    expect(d.value.ethernet.destination.equals(client)).toBe(true);
  });
});
