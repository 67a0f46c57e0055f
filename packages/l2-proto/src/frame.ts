import { decodeArp, encodeArp, type ArpPacket } from './arp.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  decodeEthernet,
  encodeEthernet,
  type EthernetFrame,
} from './ethernet.js';
import {
  ICMPV6_MLDV2_REPORT,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  decodeIcmpv6,
  type Icmpv6Message,
} from './icmpv6.js';
import { encodeIcmpv6Frame } from './icmpv6-frame.js';
import { isIpv6Multicast, isIpv6Unspecified } from './ip-address.js';
import { NEXT_HEADER_ICMPV6, decodeIpv6, type Ipv6Packet } from './ipv6.js';
import { decodeMldv2Report, encodeMldv2Report, type Mldv2Report } from './mldv2-report.js';
import { findLinkLayerAddress } from './ndp-options.js';
import {
  decodeNeighborAdvertisement,
  encodeNeighborAdvertisement,
  type NeighborAdvertisement,
} from './neighbor-advertisement.js';
import {
  NDP_HOP_LIMIT,
  decodeNeighborSolicitation,
  encodeNeighborSolicitation,
  type NeighborSolicitation,
} from './neighbor-solicitation.js';
import { fail, ok, shiftError, type Result } from './result.js';

export type DecodedFrame =
  | { readonly kind: 'arp'; readonly ethernet: EthernetFrame; readonly arp: ArpPacket }
  | {
      readonly kind: 'ndp-ns';
      readonly ethernet: EthernetFrame;
      readonly ipv6: Ipv6Packet;
      readonly ns: NeighborSolicitation;
    }
  | {
      readonly kind: 'ndp-na';
      readonly ethernet: EthernetFrame;
      readonly ipv6: Ipv6Packet;
      readonly na: NeighborAdvertisement;
    }
  | {
      readonly kind: 'mldv2-report';
      readonly ethernet: EthernetFrame;
      readonly ipv6: Ipv6Packet;
      readonly report: Mldv2Report;
    }
  /** Any other well-formed Ethernet II frame (IPv4, other ICMPv6, ...); its payload is not parsed. */
  | { readonly kind: 'other'; readonly ethernet: EthernetFrame };

export type DecodedFrameKind = DecodedFrame['kind'];

/** Where `view` starts inside `base`; both are views of the same memory. */
function offsetIn(view: Buffer, base: Buffer): number {
  return view.byteOffset - base.byteOffset;
}

/**
 * Receive-side validity rules of RFC 4861 §7.1.1 / §7.1.2 that the wire format alone does not
 * enforce. A failure is `malformed` naming the field, so a responder drops the packet and can
 * count why.
 */
function checkNdp(ipv6: Ipv6Packet, icmp: Icmpv6Message, target: Buffer): Result<true> {
  const what =
    icmp.type === ICMPV6_NEIGHBOR_SOLICITATION ? 'Neighbor Solicitation' : 'Neighbor Advertisement';
  if (ipv6.hopLimit !== NDP_HOP_LIMIT) {
    return fail(
      'malformed',
      `${what} with hop limit ${ipv6.hopLimit}; RFC 4861 requires 255 (it may have been routed)`,
      {
        field: 'hopLimit',
      },
    );
  }
  if (icmp.code !== 0)
    return fail('malformed', `${what} with ICMPv6 code ${icmp.code}, must be 0`, { field: 'code' });
  if (isIpv6Multicast(target))
    return fail('malformed', `${what} for a multicast target`, { field: 'target' });
  return ok(true);
}

/**
 * Decodes an Ethernet frame into the messages the speaker cares about. Never throws.
 * Errors carry offsets relative to `buf`.
 */
export function decodeFrame(buf: Buffer): Result<DecodedFrame> {
  const eth = decodeEthernet(buf);
  if (!eth.ok) return eth;
  const ethernet = eth.value;

  if (ethernet.etherType === ETHERTYPE_ARP) {
    const arp = decodeArp(ethernet.payload);
    if (!arp.ok) return shiftError(arp, offsetIn(ethernet.payload, buf));
    return ok({ kind: 'arp', ethernet, arp: arp.value });
  }
  if (ethernet.etherType !== ETHERTYPE_IPV6) return ok({ kind: 'other', ethernet });

  const ip = decodeIpv6(ethernet.payload);
  if (!ip.ok) return shiftError(ip, offsetIn(ethernet.payload, buf));
  const ipv6 = ip.value;
  if (ipv6.nextHeader !== NEXT_HEADER_ICMPV6) return ok({ kind: 'other', ethernet });

  const icmpStart = offsetIn(ipv6.payload, buf);
  const icmp = decodeIcmpv6(ipv6);
  if (!icmp.ok) return shiftError(icmp, icmpStart);
  const message = icmp.value;
  const bodyStart = icmpStart + 4;

  switch (message.type) {
    case ICMPV6_NEIGHBOR_SOLICITATION: {
      const ns = decodeNeighborSolicitation(message.body);
      if (!ns.ok) return shiftError(ns, bodyStart);
      const valid = checkNdp(ipv6, message, ns.value.target);
      if (!valid.ok) return valid;
      if (isIpv6Unspecified(ipv6.source)) {
        // A DAD probe: RFC 4861 §7.1.1 wants it sent to a solicited-node group, without SLLA.
        const dest = ipv6.destination;
        const toSolicitedNode =
          dest.readUInt32BE(0) === 0xff020000 &&
          dest.readUInt32BE(4) === 0 &&
          dest.readUInt32BE(8) === 1 &&
          dest[12] === 0xff;
        if (!toSolicitedNode) {
          return fail('malformed', 'Neighbor Solicitation from :: not sent to a solicited-node group', {
            field: 'destination',
          });
        }
        if (findLinkLayerAddress(ns.value.options, 'source-link-layer-address')) {
          return fail(
            'malformed',
            'Neighbor Solicitation from :: carries a source link-layer address option',
            {
              field: 'option',
            },
          );
        }
      }
      return ok({ kind: 'ndp-ns', ethernet, ipv6, ns: ns.value });
    }
    case ICMPV6_NEIGHBOR_ADVERTISEMENT: {
      const na = decodeNeighborAdvertisement(message.body);
      if (!na.ok) return shiftError(na, bodyStart);
      const valid = checkNdp(ipv6, message, na.value.target);
      if (!valid.ok) return valid;
      if (isIpv6Multicast(ipv6.destination) && na.value.solicited) {
        return fail('malformed', 'Neighbor Advertisement to a multicast address with Solicited=1', {
          field: 'solicited',
        });
      }
      return ok({ kind: 'ndp-na', ethernet, ipv6, na: na.value });
    }
    case ICMPV6_MLDV2_REPORT: {
      // The ICMPv6 code of a report is ignored on receipt (RFC 3810 §5.2) and written as zero.
      const report = decodeMldv2Report(message.body);
      if (!report.ok) return shiftError(report, bodyStart);
      return ok({ kind: 'mldv2-report', ethernet, ipv6, report: report.value });
    }
    default:
      return ok({ kind: 'other', ethernet });
  }
}

/**
 * The inverse of decodeFrame: rebuilds the frame from the innermost decoded message outwards
 * (the outer `payload` fields are ignored except for 'other'), recomputing lengths and the
 * ICMPv6 checksum, and padding to 60 bytes.
 */
export function encodeFrame(frame: DecodedFrame): Buffer {
  if (frame.kind === 'other') return encodeEthernet(frame.ethernet);
  if (frame.kind === 'arp') return encodeEthernet({ ...frame.ethernet, payload: encodeArp(frame.arp) });
  const icmpv6 =
    frame.kind === 'ndp-ns'
      ? { type: ICMPV6_NEIGHBOR_SOLICITATION, code: 0, body: encodeNeighborSolicitation(frame.ns) }
      : frame.kind === 'ndp-na'
        ? { type: ICMPV6_NEIGHBOR_ADVERTISEMENT, code: 0, body: encodeNeighborAdvertisement(frame.na) }
        : { type: ICMPV6_MLDV2_REPORT, code: 0, body: encodeMldv2Report(frame.report) };
  const { ethernet, ipv6 } = frame;
  return encodeIcmpv6Frame({
    ethernet: {
      destination: ethernet.destination,
      source: ethernet.source,
      ...(ethernet.vlan ? { vlan: ethernet.vlan } : {}),
    },
    ipv6: {
      source: ipv6.source,
      destination: ipv6.destination,
      hopLimit: ipv6.hopLimit,
      trafficClass: ipv6.trafficClass,
      flowLabel: ipv6.flowLabel,
      ...(ipv6.hopByHopOptions ? { hopByHopOptions: ipv6.hopByHopOptions } : {}),
    },
    icmpv6,
  });
}
