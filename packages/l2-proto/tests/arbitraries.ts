import fc from 'fast-check';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  solicitedNodeMulticast,
  type ArpPacket,
  type DecodedFrame,
  type EthernetFrame,
  type Ipv6Packet,
  type Mldv2Report,
  type NdpOption,
  type VlanTag,
} from '../src/index.js';

/** Generators of valid values for every message, shared by property tests and the fuzz driver. */

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b));
export const macArb = bytes(6);
export const ipv4Arb = bytes(4);
export const ipv6Arb = bytes(16);
export const unicastIpv6Arb = ipv6Arb.filter((a) => a[0] !== 0xff && !a.every((b) => b === 0));
export const vlanArb: fc.Arbitrary<VlanTag> = fc.record({
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  id: fc.integer({ min: 0, max: 4095 }),
});

export const arpArb: fc.Arbitrary<ArpPacket> = fc.record({
  operation: fc.constantFrom('request' as const, 'reply' as const),
  senderMac: macArb,
  senderIp: ipv4Arb,
  targetMac: macArb,
  targetIp: ipv4Arb,
});

export const ndpOptionArb: fc.Arbitrary<NdpOption> = fc.oneof(
  macArb.map((address): NdpOption => ({ kind: 'source-link-layer-address', address })),
  macArb.map((address): NdpOption => ({ kind: 'target-link-layer-address', address })),
  fc
    .record({
      type: fc.integer({ min: 0, max: 255 }),
      units: fc.integer({ min: 1, max: 3 }),
      fill: fc.uint8Array({ maxLength: 22 }),
    })
    // Types 1 and 2 of one unit are Ethernet addresses, so a raw one must be longer.
    .map(({ type, units, fill }) => ({
      type,
      units: (type === 1 || type === 2) && units === 1 ? 2 : units,
      fill,
    }))
    .map(({ type, units, fill }): NdpOption => {
      const data = Buffer.alloc(units * 8 - 2);
      Buffer.from(fill).copy(data);
      return { kind: 'raw', type, data };
    }),
);
export const ndpOptionsArb = fc.array(ndpOptionArb, { maxLength: 4 });

/** A valid Hop-by-Hop option area: random TLVs (no Pad1 inside), padded with Pad1/PadN to 8n-2. */
export const hopByHopOptionsArb: fc.Arbitrary<Buffer> = fc
  .array(fc.record({ type: fc.integer({ min: 1, max: 255 }), data: fc.uint8Array({ maxLength: 10 }) }), {
    maxLength: 3,
  })
  .map((tlvs) => {
    const parts = tlvs.map(({ type, data }) =>
      Buffer.concat([Buffer.from([type, data.length]), Buffer.from(data)]),
    );
    let area = Buffer.concat(parts);
    const pad = (8 - ((area.length + 2) % 8)) % 8;
    if (pad === 1) area = Buffer.concat([area, Buffer.from([0])]);
    else if (pad > 1) area = Buffer.concat([area, Buffer.from([1, pad - 2]), Buffer.alloc(pad - 2)]);
    return area;
  });

export const mldv2ReportArb: fc.Arbitrary<Mldv2Report> = fc.record({
  records: fc.array(
    fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      multicastAddress: ipv6Arb,
      sources: fc.array(ipv6Arb, { maxLength: 3 }),
      auxData: fc.integer({ min: 0, max: 3 }).chain((words) => bytes(words * 4)),
    }),
    { maxLength: 4 },
  ),
});

function ethernetOf(etherType: number) {
  return fc
    .record({ destination: macArb, source: macArb, vlan: fc.option(vlanArb, { nil: undefined, freq: 2 }) })
    .map(({ vlan, ...rest }): EthernetFrame => ({
      ...rest,
      ...(vlan ? { vlan } : {}),
      etherType,
      payload: Buffer.alloc(0),
    }));
}

function ipv6Of(overrides: fc.Arbitrary<Partial<Ipv6Packet>>): fc.Arbitrary<Ipv6Packet> {
  return fc
    .record({
      trafficClass: fc.integer({ min: 0, max: 255 }),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      hopLimit: fc.integer({ min: 0, max: 255 }),
      source: ipv6Arb,
      destination: ipv6Arb,
      hopByHopOptions: fc.option(hopByHopOptionsArb, { nil: undefined }),
      overrides,
    })
    .map(({ hopByHopOptions, overrides: o, ...rest }): Ipv6Packet => {
      const packet = {
        ...rest,
        nextHeader: 58,
        ...(hopByHopOptions ? { hopByHopOptions } : {}),
        payload: Buffer.alloc(0),
        ...o,
      };
      return packet;
    });
}

export const arpFrameArb: fc.Arbitrary<DecodedFrame> = fc
  .record({ ethernet: ethernetOf(ETHERTYPE_ARP), arp: arpArb })
  .map((f) => ({ kind: 'arp' as const, ...f }));

export const nsFrameArb: fc.Arbitrary<DecodedFrame> = fc
  .record({
    ethernet: ethernetOf(ETHERTYPE_IPV6),
    ipv6: ipv6Of(fc.record({ hopLimit: fc.constant(255), source: unicastIpv6Arb })),
    target: unicastIpv6Arb,
    options: ndpOptionsArb,
    multicast: fc.boolean(),
  })
  .map(({ ethernet, ipv6, target, options, multicast }) => ({
    kind: 'ndp-ns' as const,
    ethernet,
    ipv6: multicast ? { ...ipv6, destination: solicitedNodeMulticast(target) } : ipv6,
    ns: { target, options },
  }));

export const naFrameArb: fc.Arbitrary<DecodedFrame> = fc
  .record({
    ethernet: ethernetOf(ETHERTYPE_IPV6),
    ipv6: ipv6Of(fc.record({ hopLimit: fc.constant(255) })),
    target: unicastIpv6Arb,
    options: ndpOptionsArb,
    router: fc.boolean(),
    solicited: fc.boolean(),
    override: fc.boolean(),
  })
  .map(({ ethernet, ipv6, target, options, router, solicited, override }) => ({
    kind: 'ndp-na' as const,
    ethernet,
    ipv6,
    // RFC 4861 §7.1.2: a multicast NA must have Solicited=0.
    na: { target, options, router, override, solicited: ipv6.destination[0] === 0xff ? false : solicited },
  }));

export const mldFrameArb: fc.Arbitrary<DecodedFrame> = fc
  .record({ ethernet: ethernetOf(ETHERTYPE_IPV6), ipv6: ipv6Of(fc.constant({})), report: mldv2ReportArb })
  .map((f) => ({ kind: 'mldv2-report' as const, ...f }));

export const otherFrameArb: fc.Arbitrary<DecodedFrame> = fc
  .record({
    ethernet: ethernetOf(0),
    etherType: fc
      .integer({ min: 0x0600, max: 0xffff })
      .filter(
        (t) => t !== ETHERTYPE_ARP && t !== ETHERTYPE_IPV6 && t !== ETHERTYPE_VLAN && t !== ETHERTYPE_QINQ,
      ),
    payload: fc.uint8Array({ minLength: 46, maxLength: 120 }),
  })
  .map(({ ethernet, etherType, payload }) => ({
    kind: 'other' as const,
    ethernet: { ...ethernet, etherType, payload: Buffer.from(payload) },
  }));

export const anyFrameArb = fc.oneof(arpFrameArb, nsFrameArb, naFrameArb, mldFrameArb, otherFrameArb);

/** Drops the payload views (which differ by construction) so decoded values compare structurally. */
export function comparable(frame: DecodedFrame): unknown {
  const { payload: _ethernetPayload, ...ethernet } = frame.ethernet;
  const keepPayload = frame.kind === 'other';
  const base = { ...frame, ethernet: keepPayload ? frame.ethernet : ethernet };
  if ('ipv6' in frame) {
    const { payload: _ipPayload, ...ipv6 } = frame.ipv6;
    const hopByHopOptions = ipv6.hopByHopOptions ? Buffer.from(ipv6.hopByHopOptions) : undefined;
    return { ...base, ipv6: { ...ipv6, ...(hopByHopOptions ? { hopByHopOptions } : {}) } };
  }
  return base;
}
