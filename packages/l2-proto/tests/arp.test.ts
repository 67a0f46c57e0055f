import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { arpReply, decodeArp, decodeFrame, encodeArp, encodeFrame, gratuitousArp } from '../src/index.js';
import type { ArpPacket } from '../src/index.js';
import { hex } from './hex.js';

const ourMac = Buffer.from('020000000001', 'hex');
const vip = Buffer.from([203, 0, 113, 10]);
const askerMac = Buffer.from('020000000050', 'hex');
const askerIp = Buffer.from([203, 0, 113, 50]);

// RFC 826 layout over Ethernet II, 42 bytes + 18 bytes of padding to the 60-byte minimum.
const WHO_HAS_VIP = hex(`
  ffffffffffff  # Ethernet destination: broadcast
  020000000050  # Ethernet source: the asker
  0806          # EtherType: ARP
  0001          # htype: Ethernet
  0800          # ptype: IPv4
  06            # hlen
  04            # plen
  0001          # operation: request
  020000000050  # sender MAC
  cb007132      # sender IP 203.0.113.50
  000000000000  # target MAC: unknown
  cb00710a      # target IP 203.0.113.10
  ${'00'.repeat(18)} # padding
`);

const REPLY_TO_ASKER = hex(`
  020000000050  # Ethernet destination: the asker (unicast)
  020000000001  # Ethernet source: us
  0806 0001 0800 06 04
  0002          # operation: reply
  020000000001  # sender MAC: us
  cb00710a      # sender IP: the VIP
  020000000050  # target MAC: the asker
  cb007132      # target IP: the asker
  ${'00'.repeat(18)}
`);

const GARP_REQUEST = hex(`
  ffffffffffff 020000000001 0806 0001 0800 06 04
  0001          # request (RFC 5227 announcement)
  020000000001  # sender MAC: us
  cb00710a      # sender IP: VIP
  000000000000  # target MAC: zero (ignored by receivers)
  cb00710a      # target IP: VIP again
  ${'00'.repeat(18)}
`);

const GARP_REPLY = hex(`
  ffffffffffff 020000000001 0806 0001 0800 06 04
  0002          # reply (RFC 5944 §4.6 form)
  020000000001 cb00710a
  020000000001  # target MAC: us as well
  cb00710a
  ${'00'.repeat(18)}
`);

const VLAN_WHO_HAS_VIP = hex(`
  ffffffffffff 020000000050
  8100 0064     # 802.1Q, VID 100
  0806 0001 0800 06 04 0001
  020000000050 cb007132 000000000000 cb00710a
  ${'00'.repeat(14)} # padding: the tag counts towards the 60 bytes
`);

const ip = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b));
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b));
const arpArb: fc.Arbitrary<ArpPacket> = fc.record({
  operation: fc.constantFrom('request' as const, 'reply' as const),
  senderMac: mac,
  senderIp: ip,
  targetMac: mac,
  targetIp: ip,
});

describe('ARP golden vectors', () => {
  it('decodes a request for the VIP', () => {
    const frame = decodeFrame(WHO_HAS_VIP);
    expect(frame).toEqual({
      ok: true,
      value: {
        kind: 'arp',
        ethernet: expect.objectContaining({
          destination: Buffer.from('ffffffffffff', 'hex'),
          source: askerMac,
          etherType: 0x0806,
        }),
        arp: {
          operation: 'request',
          senderMac: askerMac,
          senderIp: askerIp,
          targetMac: Buffer.alloc(6),
          targetIp: vip,
        },
      },
    });
    if (frame.ok) expect(encodeFrame(frame.value)).toEqual(WHO_HAS_VIP);
  });

  it('builds the unicast reply byte for byte', () => {
    expect(arpReply({ ourMac, vip, askerMac, askerIp })).toEqual(REPLY_TO_ASKER);
  });

  it('builds both gratuitous forms byte for byte', () => {
    expect(gratuitousArp({ mac: ourMac, ip: vip, kind: 'request' })).toEqual(GARP_REQUEST);
    expect(gratuitousArp({ mac: ourMac, ip: vip, kind: 'reply' })).toEqual(GARP_REPLY);
  });

  it('decodes a VLAN-tagged request and answers on the same VLAN', () => {
    const frame = decodeFrame(VLAN_WHO_HAS_VIP);
    expect(frame).toMatchObject({
      ok: true,
      value: { kind: 'arp', ethernet: { vlan: { pcp: 0, dei: false, id: 100 } } },
    });
    if (!frame.ok || frame.value.kind !== 'arp') throw new Error('expected ARP');
    expect(encodeFrame(frame.value)).toEqual(VLAN_WHO_HAS_VIP);
    const reply = arpReply({
      ourMac,
      vip,
      askerMac,
      askerIp,
      ...(frame.value.ethernet.vlan ? { vlan: frame.value.ethernet.vlan } : {}),
    });
    expect(reply.subarray(12, 16)).toEqual(Buffer.from('81000064', 'hex'));
    expect(decodeFrame(reply)).toMatchObject({
      ok: true,
      value: { kind: 'arp', arp: { operation: 'reply' } },
    });
  });
});

describe('ARP decode errors', () => {
  const body = WHO_HAS_VIP.subarray(14, 42);
  it.each([
    [0, '0006', 'htype'],
    [2, '86dd', 'ptype'],
    [4, '08', 'hlen'],
    [5, '10', 'plen'],
    [6, '0003', 'operation'],
  ])('field at %i set to %s is unsupported', (offset, value, field) => {
    const bad = Buffer.from(body);
    Buffer.from(value, 'hex').copy(bad, offset);
    expect(decodeArp(bad)).toMatchObject({ ok: false, error: { code: 'unsupported', field, offset } });
  });

  it('every truncation is short-buffer, with offsets relative to the frame', () => {
    for (let len = 0; len < 42; len++) {
      const result = decodeFrame(WHO_HAS_VIP.subarray(0, len));
      expect(result).toMatchObject({ ok: false, error: { code: 'short-buffer' } });
    }
    expect(decodeFrame(WHO_HAS_VIP.subarray(0, 41))).toMatchObject({ ok: false, error: { offset: 14 } });
  });

  it('tolerates trailing bytes beyond padding', () => {
    expect(decodeArp(Buffer.concat([body, Buffer.alloc(100, 0xee)]))).toMatchObject({ ok: true });
  });
});

describe('ARP properties', () => {
  it('decode(encode(x)) == x', () => {
    fc.assert(
      fc.property(arpArb, (packet) =>
        expect(decodeArp(encodeArp(packet))).toEqual({ ok: true, value: packet }),
      ),
    );
  });

  it('encode(decode(b)) == b for valid 28-byte packets', () => {
    fc.assert(
      fc.property(arpArb, (packet) => {
        const bytes = encodeArp(packet);
        const decoded = decodeArp(bytes);
        if (!decoded.ok) throw new Error(decoded.error.message);
        expect(encodeArp(decoded.value)).toEqual(bytes);
      }),
    );
  });

  it('whole frames round-trip through decodeFrame/encodeFrame', () => {
    fc.assert(
      fc.property(arpArb, mac, mac, (packet, destination, source) => {
        const bytes = encodeFrame({
          kind: 'arp',
          ethernet: { destination, source, etherType: 0x0806, payload: Buffer.alloc(0) },
          arp: packet,
        });
        const decoded = decodeFrame(bytes);
        expect(decoded).toMatchObject({ ok: true, value: { kind: 'arp', arp: packet } });
        if (decoded.ok) expect(encodeFrame(decoded.value)).toEqual(bytes);
      }),
    );
  });
});
