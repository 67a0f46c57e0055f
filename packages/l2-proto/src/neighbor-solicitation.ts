import type { VlanTag } from './ethernet.js';
import { ICMPV6_NEIGHBOR_SOLICITATION } from './icmpv6.js';
import { encodeIcmpv6Frame } from './icmpv6-frame.js';
import { IPV6_LENGTH } from './ip-address.js';
import { decodeNdpOptions, ndpOptionsLength, writeNdpOptions, type NdpOption } from './ndp-options.js';
import { needBytes, ok, requireLength, shiftError, type Result } from './result.js';
import { UNSPECIFIED_IPV6, solicitedNodeMac, solicitedNodeMulticast } from './solicited-node.js';

/** RFC 4861 §4.3: 4 reserved bytes and the 16-byte target before the options. */
export const NEIGHBOR_SOLICITATION_MIN_LENGTH = 20;
/** RFC 4861 §7.1: NDP packets must arrive with hop limit 255, proving they were not routed. */
export const NDP_HOP_LIMIT = 255;

export interface NeighborSolicitation {
  readonly target: Buffer;
  readonly options: readonly NdpOption[];
}

/** Decodes the ICMPv6 body (after type, code, checksum) of a Neighbor Solicitation. */
export function decodeNeighborSolicitation(body: Buffer): Result<NeighborSolicitation> {
  const short = needBytes(body, 0, NEIGHBOR_SOLICITATION_MIN_LENGTH, 'Neighbor Solicitation');
  if (short) return short;
  const options = decodeNdpOptions(body.subarray(NEIGHBOR_SOLICITATION_MIN_LENGTH));
  if (!options.ok) return shiftError(options, NEIGHBOR_SOLICITATION_MIN_LENGTH);
  // The reserved field is ignored on receipt (RFC 4861 §4.3) and written as zero.
  const ns: NeighborSolicitation = { target: Buffer.from(body.subarray(4, 20)), options: options.value };
  return ok(ns);
}

/** Encodes the ICMPv6 body of a Neighbor Solicitation. */
export function encodeNeighborSolicitation(ns: NeighborSolicitation): Buffer {
  requireLength(ns.target, IPV6_LENGTH, 'ns.target');
  const out = Buffer.alloc(NEIGHBOR_SOLICITATION_MIN_LENGTH + ndpOptionsLength(ns.options));
  ns.target.copy(out, 4);
  writeNdpOptions(ns.options, out, NEIGHBOR_SOLICITATION_MIN_LENGTH);
  return out;
}

/**
 * A whole multicast Neighbor Solicitation frame asking who has `target` (sent to its
 * solicited-node group). With `source` omitted or `::` it is a Duplicate Address Detection probe,
 * which must not carry a source link-layer address option (RFC 4861 §4.3).
 * The speaker does not need this to answer; it is here for tests and lab tooling.
 */
export function neighborSolicitation(args: {
  mac: Buffer;
  source?: Buffer;
  target: Buffer;
  vlan?: VlanTag;
}): Buffer {
  const source = args.source ?? UNSPECIFIED_IPV6;
  const isDad = source.equals(UNSPECIFIED_IPV6);
  return encodeIcmpv6Frame({
    ethernet: {
      destination: solicitedNodeMac(args.target),
      source: args.mac,
      ...(args.vlan ? { vlan: args.vlan } : {}),
    },
    ipv6: { source, destination: solicitedNodeMulticast(args.target), hopLimit: NDP_HOP_LIMIT },
    icmpv6: {
      type: ICMPV6_NEIGHBOR_SOLICITATION,
      code: 0,
      body: encodeNeighborSolicitation({
        target: args.target,
        options: isDad ? [] : [{ kind: 'source-link-layer-address', address: args.mac }],
      }),
    },
  });
}
