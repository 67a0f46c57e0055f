import { IPV6_LENGTH, ipv6ToBytes } from './ip-address.js';
import { MAC_LENGTH } from './mac.js';
import { requireLength } from './result.js';

function fixed(text: string): Buffer {
  const parsed = ipv6ToBytes(text);
  if (!parsed.ok) throw new Error(`bad built-in address ${text}`);
  return parsed.value;
}

/** ff02::1, all nodes on the link. Treat as read-only. */
export const ALL_NODES_IPV6: Buffer = fixed('ff02::1');
/** ff02::16, where MLDv2 reports go (RFC 3810 §5.2.14). Treat as read-only. */
export const ALL_MLDV2_ROUTERS_IPV6: Buffer = fixed('ff02::16');
export const UNSPECIFIED_IPV6: Buffer = Buffer.alloc(IPV6_LENGTH);

/** RFC 2464 §7: an IPv6 multicast address maps to 33:33 followed by its last four bytes. */
export function ipv6MulticastMac(group: Buffer): Buffer {
  requireLength(group, IPV6_LENGTH, 'ipv6 multicast group');
  const mac = Buffer.alloc(MAC_LENGTH);
  mac[0] = 0x33;
  mac[1] = 0x33;
  group.copy(mac, 2, 12, 16);
  return mac;
}

/** RFC 4291 §2.7.1: ff02::1:ff00:0/104 plus the address's low 24 bits. */
export function solicitedNodeMulticast(address: Buffer): Buffer {
  requireLength(address, IPV6_LENGTH, 'ipv6 address');
  const group = Buffer.alloc(IPV6_LENGTH);
  group[0] = 0xff;
  group[1] = 0x02;
  group[11] = 0x01;
  group[12] = 0xff;
  address.copy(group, 13, 13, 16);
  return group;
}

/** 33:33:ff:XX:XX:XX for the address's solicited-node group. */
export function solicitedNodeMac(address: Buffer): Buffer {
  return ipv6MulticastMac(solicitedNodeMulticast(address));
}

/** ff02::1 → 33:33:00:00:00:01. Treat as read-only. */
export const ALL_NODES_MAC: Buffer = ipv6MulticastMac(ALL_NODES_IPV6);
/** ff02::16 → 33:33:00:00:00:16. Treat as read-only. */
export const ALL_MLDV2_ROUTERS_MAC: Buffer = ipv6MulticastMac(ALL_MLDV2_ROUTERS_IPV6);
