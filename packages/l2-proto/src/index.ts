export type { Err, Ok, ProtoError, ProtoErrorCode, Result } from './result.js';
export {
  BROADCAST_MAC,
  MAC_LENGTH,
  ZERO_MAC,
  formatMac,
  isBroadcast,
  isMulticastMac,
  parseMac,
} from './mac.js';
export {
  IPV4_LENGTH,
  IPV6_LENGTH,
  bytesToIpv4,
  bytesToIpv6,
  ipv4ToBytes,
  ipv6ToBytes,
  isIpv6Multicast,
  isIpv6Unspecified,
} from './ip-address.js';
export {
  ETHERNET_HEADER_LENGTH,
  ETHERNET_MIN_FRAME_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  VLAN_TAG_LENGTH,
  decodeEthernet,
  encodeEthernet,
} from './ethernet.js';
export type { EthernetFrame, VlanTag } from './ethernet.js';
export { ARP_PACKET_LENGTH, arpReply, decodeArp, encodeArp, encodeArpFrame, gratuitousArp } from './arp.js';
export type { ArpOperation, ArpPacket } from './arp.js';
export {
  IPV6_HEADER_LENGTH,
  NEXT_HEADER_HOP_BY_HOP,
  NEXT_HEADER_ICMPV6,
  NEXT_HEADER_NONE,
  decodeIpv6,
  encodeIpv6,
} from './ipv6.js';
export type { Ipv6Packet } from './ipv6.js';
export {
  ICMPV6_HEADER_LENGTH,
  ICMPV6_MLDV2_REPORT,
  ICMPV6_MLD_QUERY,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_ROUTER_ADVERTISEMENT,
  ICMPV6_ROUTER_SOLICITATION,
  decodeIcmpv6,
  encodeIcmpv6,
  icmpv6Checksum,
} from './icmpv6.js';
export type { Icmpv6Message } from './icmpv6.js';
export { encodeIcmpv6Frame } from './icmpv6-frame.js';
export type { Icmpv6FrameParts } from './icmpv6-frame.js';
export {
  NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS,
  NDP_OPTION_TARGET_LINK_LAYER_ADDRESS,
  decodeNdpOptions,
  encodeNdpOptions,
  findLinkLayerAddress,
} from './ndp-options.js';
export type { NdpOption } from './ndp-options.js';
export {
  NDP_HOP_LIMIT,
  NEIGHBOR_SOLICITATION_MIN_LENGTH,
  decodeNeighborSolicitation,
  encodeNeighborSolicitation,
  neighborSolicitation,
} from './neighbor-solicitation.js';
export type { NeighborSolicitation } from './neighbor-solicitation.js';
export {
  NEIGHBOR_ADVERTISEMENT_MIN_LENGTH,
  decodeNeighborAdvertisement,
  encodeNeighborAdvertisement,
  neighborAdvertisement,
  unsolicitedNeighborAdvertisement,
} from './neighbor-advertisement.js';
export type { NeighborAdvertisement } from './neighbor-advertisement.js';
export {
  ALL_MLDV2_ROUTERS_IPV6,
  ALL_MLDV2_ROUTERS_MAC,
  ALL_NODES_IPV6,
  ALL_NODES_MAC,
  UNSPECIFIED_IPV6,
  ipv6MulticastMac,
  solicitedNodeMac,
  solicitedNodeMulticast,
} from './solicited-node.js';
export {
  MLDV2_ALLOW_NEW_SOURCES,
  MLDV2_BLOCK_OLD_SOURCES,
  MLDV2_CHANGE_TO_EXCLUDE_MODE,
  MLDV2_CHANGE_TO_INCLUDE_MODE,
  MLDV2_MODE_IS_EXCLUDE,
  MLDV2_MODE_IS_INCLUDE,
  ROUTER_ALERT_MLD_OPTIONS,
  decodeMldv2Report,
  encodeMldv2Report,
  mldv2Report,
} from './mldv2-report.js';
export type { Mldv2Record, Mldv2Report } from './mldv2-report.js';
export { decodeFrame, encodeFrame } from './frame.js';
export type { DecodedFrame, DecodedFrameKind } from './frame.js';
