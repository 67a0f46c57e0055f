import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  decodeIcmpv6,
  decodeIpv6,
  encodeIcmpv6,
  encodeIpv6,
  icmpv6Checksum,
  type Ipv6Packet,
} from '../src/index.js';
import { hopByHopOptionsArb, ipv6Arb } from './arbitraries.js';
import { hex } from './hex.js';
import { NS_FOR_VIP } from './vectors.js';

const packetArb: fc.Arbitrary<Ipv6Packet> = fc
  .record({
    trafficClass: fc.integer({ min: 0, max: 255 }),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    nextHeader: fc.integer({ min: 1, max: 255 }),
    hopLimit: fc.integer({ min: 0, max: 255 }),
    source: ipv6Arb,
    destination: ipv6Arb,
    hopByHopOptions: fc.option(hopByHopOptionsArb, { nil: undefined }),
    payload: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  })
  .map(({ hopByHopOptions, ...rest }) => ({ ...rest, ...(hopByHopOptions ? { hopByHopOptions } : {}) }));

const ipv6OfNs = NS_FOR_VIP.subarray(14);

describe('IPv6 header', () => {
  it('decodes the fields of the golden NS packet', () => {
    expect(decodeIpv6(ipv6OfNs)).toMatchObject({
      ok: true,
      value: { trafficClass: 0, flowLabel: 0, nextHeader: 58, hopLimit: 255 },
    });
  });

  it('reads traffic class and flow label out of the first word', () => {
    const packet = Buffer.from(ipv6OfNs);
    packet.writeUInt32BE(0x6abcdef1, 0); // version 6, TC 0xab, flow 0xcdef1
    expect(decodeIpv6(packet)).toMatchObject({ ok: true, value: { trafficClass: 0xab, flowLabel: 0xcdef1 } });
  });

  it('refuses other versions, short payloads and jumbograms', () => {
    const v4 = Buffer.from(ipv6OfNs);
    v4[0] = 0x45;
    expect(decodeIpv6(v4)).toMatchObject({
      ok: false,
      error: { code: 'malformed', field: 'version', offset: 0 },
    });
    expect(decodeIpv6(ipv6OfNs.subarray(0, 60))).toMatchObject({
      ok: false,
      error: { code: 'short-buffer', offset: 40 },
    });
    const jumbo = Buffer.from(ipv6OfNs);
    jumbo.writeUInt16BE(0, 4);
    jumbo[6] = 0;
    expect(decodeIpv6(jumbo)).toMatchObject({
      ok: false,
      error: { code: 'unsupported', field: 'payloadLength' },
    });
  });

  it('ignores bytes past the payload length (Ethernet padding)', () => {
    const padded = Buffer.concat([ipv6OfNs, Buffer.alloc(10, 0xee)]);
    const decoded = decodeIpv6(padded);
    expect(decoded.ok && decoded.value.payload.length).toBe(32);
  });

  it('checks the Hop-by-Hop header and its option TLVs', () => {
    const base = hex(`
      60000000 0010 00 01 ${'00'.repeat(32)}
      3a 00 05 02 0000 01 00   # HbH: Router Alert + PadN
      ${'ab'.repeat(8)}
    `);
    expect(decodeIpv6(base)).toMatchObject({
      ok: true,
      value: { nextHeader: 58, hopByHopOptions: hex('050200000100') },
    });
    const overrun = Buffer.from(base);
    overrun[47] = 3; // PadN claims 3 bytes, 0 remain in the header
    expect(decodeIpv6(overrun)).toMatchObject({ ok: false, error: { code: 'malformed', offset: 46 } });
    const twice = Buffer.from(base);
    twice[40] = 0;
    expect(decodeIpv6(twice)).toMatchObject({
      ok: false,
      error: { code: 'malformed', field: 'hopByHop.nextHeader' },
    });
    const long = Buffer.from(base);
    long[41] = 2; // 24-byte HbH in a 16-byte payload
    expect(decodeIpv6(long)).toMatchObject({ ok: false, error: { code: 'short-buffer', offset: 40 } });
  });

  it('decode(encode(x)) == x and encode(decode(b)) == b', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const bytes = encodeIpv6(packet);
        const decoded = decodeIpv6(bytes);
        expect(decoded).toEqual({ ok: true, value: packet });
        if (decoded.ok) expect(encodeIpv6(decoded.value)).toEqual(bytes);
      }),
    );
  });

  it('refuses to encode a malformed Hop-by-Hop area', () => {
    const p = {
      trafficClass: 0,
      flowLabel: 0,
      nextHeader: 58,
      hopLimit: 1,
      source: Buffer.alloc(16),
      destination: Buffer.alloc(16),
      payload: Buffer.alloc(0),
    };
    expect(() => encodeIpv6({ ...p, hopByHopOptions: Buffer.alloc(5) })).toThrow(/multiple of 8/);
    expect(() => encodeIpv6({ ...p, hopByHopOptions: hex('010900000000') })).toThrow(/TLV/);
  });
});

describe('ICMPv6 checksum', () => {
  it('matches the independently computed golden checksum', () => {
    const packet = decodeIpv6(ipv6OfNs);
    if (!packet.ok) throw new Error(packet.error.message);
    const zeroed = Buffer.from(packet.value.payload);
    zeroed.writeUInt16BE(0, 2);
    expect(icmpv6Checksum(zeroed, packet.value.source, packet.value.destination)).toBe(0x1b6b);
    expect(icmpv6Checksum(packet.value.payload, packet.value.source, packet.value.destination)).toBe(0);
  });

  it('verifies what it computes, over odd lengths too', () => {
    fc.assert(
      fc.property(
        ipv6Arb,
        ipv6Arb,
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 41 }),
        (source, destination, type, body) => {
          const message = { type, code: 0, body: Buffer.from(body) };
          const bytes = encodeIcmpv6(message, source, destination);
          expect(decodeIcmpv6({ source, destination, payload: bytes })).toEqual({ ok: true, value: message });
          const other = Buffer.from(destination);
          other[15] = (other[15] as number) ^ 0x80;
          expect(decodeIcmpv6({ source, destination: other, payload: bytes })).toMatchObject({
            ok: false,
            error: { code: 'bad-checksum' },
          });
        },
      ),
    );
  });
});
