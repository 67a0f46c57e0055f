import type { VlanTag } from './ethernet.js';
import { ICMPV6_NEIGHBOR_ADVERTISEMENT } from './icmpv6.js';
import { encodeIcmpv6Frame } from './icmpv6-frame.js';
import { IPV6_LENGTH, isIpv6Unspecified } from './ip-address.js';
import { decodeNdpOptions, ndpOptionsLength, writeNdpOptions, type NdpOption } from './ndp-options.js';
import { NDP_HOP_LIMIT } from './neighbor-solicitation.js';
import { needBytes, ok, requireLength, shiftError, type Result } from './result.js';
import { ALL_NODES_IPV6, ALL_NODES_MAC } from './solicited-node.js';

/** RFC 4861 §4.4: 4 bytes of flags and reserved, then the 16-byte target, then options. */
export const NEIGHBOR_ADVERTISEMENT_MIN_LENGTH = 20;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

export interface NeighborAdvertisement {
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: Buffer;
  readonly options: readonly NdpOption[];
}

/** Decodes the ICMPv6 body (after type, code, checksum) of a Neighbor Advertisement. */
export function decodeNeighborAdvertisement(body: Buffer): Result<NeighborAdvertisement> {
  const short = needBytes(body, 0, NEIGHBOR_ADVERTISEMENT_MIN_LENGTH, 'Neighbor Advertisement');
  if (short) return short;
  const options = decodeNdpOptions(body.subarray(NEIGHBOR_ADVERTISEMENT_MIN_LENGTH));
  if (!options.ok) return shiftError(options, NEIGHBOR_ADVERTISEMENT_MIN_LENGTH);
  const flags = body[0] as number;
  // The 29 reserved bits are ignored on receipt (RFC 4861 §4.4) and written as zero.
  const na: NeighborAdvertisement = {
    router: (flags & FLAG_ROUTER) !== 0,
    solicited: (flags & FLAG_SOLICITED) !== 0,
    override: (flags & FLAG_OVERRIDE) !== 0,
    target: Buffer.from(body.subarray(4, 20)),
    options: options.value,
  };
  return ok(na);
}

/** Encodes the ICMPv6 body of a Neighbor Advertisement. */
export function encodeNeighborAdvertisement(na: NeighborAdvertisement): Buffer {
  requireLength(na.target, IPV6_LENGTH, 'na.target');
  const out = Buffer.alloc(NEIGHBOR_ADVERTISEMENT_MIN_LENGTH + ndpOptionsLength(na.options));
  out[0] =
    (na.router ? FLAG_ROUTER : 0) | (na.solicited ? FLAG_SOLICITED : 0) | (na.override ? FLAG_OVERRIDE : 0);
  na.target.copy(out, 4);
  writeNdpOptions(na.options, out, NEIGHBOR_ADVERTISEMENT_MIN_LENGTH);
  return out;
}

/**
 * The answer to a Neighbor Solicitation for `target`: a whole Ethernet frame from `ourMac` to
 * `toMac`/`toIp` (the solicitation's source link-layer option and IPv6 source), carrying our
 * MAC in a target link-layer address option (RFC 4861 §7.2.4 requires it for multicast
 * solicitations; we always include it).
 *
 * If `toIp` is `::` the solicitation was a Duplicate Address Detection probe: RFC 4861 §7.2.4
 * says to answer all-nodes (ff02::1, 33:33:00:00:00:01) with Solicited=0, and this does so,
 * whatever `toMac` and `solicited` say.
 *
 * The IPv6 source is `source` if given, else `target` itself: the VIP is "an address assigned to
 * the interface" from the neighbours' point of view, and using it needs no link-local lookup.
 */
export function neighborAdvertisement(args: {
  ourMac: Buffer;
  target: Buffer;
  toMac: Buffer;
  toIp: Buffer;
  solicited: boolean;
  override: boolean;
  router: boolean;
  source?: Buffer;
  vlan?: VlanTag;
}): Buffer {
  const toDadProbe = isIpv6Unspecified(args.toIp);
  return encodeIcmpv6Frame({
    ethernet: {
      destination: toDadProbe ? ALL_NODES_MAC : args.toMac,
      source: args.ourMac,
      ...(args.vlan ? { vlan: args.vlan } : {}),
    },
    ipv6: {
      source: args.source ?? args.target,
      destination: toDadProbe ? ALL_NODES_IPV6 : args.toIp,
      hopLimit: NDP_HOP_LIMIT,
    },
    icmpv6: {
      type: ICMPV6_NEIGHBOR_ADVERTISEMENT,
      code: 0,
      body: encodeNeighborAdvertisement({
        router: args.router,
        solicited: toDadProbe ? false : args.solicited,
        override: args.override,
        target: args.target,
        options: [{ kind: 'target-link-layer-address', address: args.ourMac }],
      }),
    },
  });
}

/**
 * Announces that `ip` is now at `mac` to every node on the link (RFC 4861 §7.2.6): to ff02::1
 * from `ip`, Override=1 so caches replace the old MAC, Solicited=0, Router=0.
 */
export function unsolicitedNeighborAdvertisement(args: { mac: Buffer; ip: Buffer; vlan?: VlanTag }): Buffer {
  return neighborAdvertisement({
    ourMac: args.mac,
    target: args.ip,
    toMac: ALL_NODES_MAC,
    toIp: ALL_NODES_IPV6,
    solicited: false,
    override: true,
    router: false,
    ...(args.vlan ? { vlan: args.vlan } : {}),
  });
}
