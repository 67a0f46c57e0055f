import { ETHERTYPE_IPV6, encodeEthernet, type VlanTag } from './ethernet.js';
import { encodeIcmpv6, type Icmpv6Message } from './icmpv6.js';
import { IPV6_LENGTH } from './ip-address.js';
import { NEXT_HEADER_ICMPV6, encodeIpv6 } from './ipv6.js';
import { requireLength } from './result.js';

export interface Icmpv6FrameParts {
  readonly ethernet: { readonly destination: Buffer; readonly source: Buffer; readonly vlan?: VlanTag };
  readonly ipv6: {
    readonly source: Buffer;
    readonly destination: Buffer;
    readonly hopLimit: number;
    readonly trafficClass?: number;
    readonly flowLabel?: number;
    readonly hopByHopOptions?: Buffer;
  };
  readonly icmpv6: Icmpv6Message;
}

/** Ethernet + IPv6 (+ optional Hop-by-Hop) + ICMPv6 with the checksum filled in. */
export function encodeIcmpv6Frame(parts: Icmpv6FrameParts): Buffer {
  const { ethernet, ipv6 } = parts;
  requireLength(ipv6.source, IPV6_LENGTH, 'ipv6.source');
  requireLength(ipv6.destination, IPV6_LENGTH, 'ipv6.destination');
  const icmp = encodeIcmpv6(parts.icmpv6, ipv6.source, ipv6.destination);
  const packet = encodeIpv6({
    trafficClass: ipv6.trafficClass ?? 0,
    flowLabel: ipv6.flowLabel ?? 0,
    nextHeader: NEXT_HEADER_ICMPV6,
    hopLimit: ipv6.hopLimit,
    source: ipv6.source,
    destination: ipv6.destination,
    ...(ipv6.hopByHopOptions ? { hopByHopOptions: ipv6.hopByHopOptions } : {}),
    payload: icmp,
  });
  return encodeEthernet({
    destination: ethernet.destination,
    source: ethernet.source,
    ...(ethernet.vlan ? { vlan: ethernet.vlan } : {}),
    etherType: ETHERTYPE_IPV6,
    payload: packet,
  });
}
