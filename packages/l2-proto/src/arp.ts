import { ETHERTYPE_ARP, ETHERTYPE_IPV4, encodeEthernet, type VlanTag } from './ethernet.js';
import { IPV4_LENGTH } from './ip-address.js';
import { BROADCAST_MAC, MAC_LENGTH, ZERO_MAC } from './mac.js';
import { fail, needBytes, ok, requireLength, type Result } from './result.js';

/** Ethernet/IPv4 ARP: 8-byte fixed part plus two 6-byte MACs and two 4-byte addresses. */
export const ARP_PACKET_LENGTH = 28;
const HTYPE_ETHERNET = 1;
const OP_REQUEST = 1;
const OP_REPLY = 2;

export type ArpOperation = 'request' | 'reply';

export interface ArpPacket {
  readonly operation: ArpOperation;
  readonly senderMac: Buffer;
  readonly senderIp: Buffer;
  readonly targetMac: Buffer;
  readonly targetIp: Buffer;
}

/**
 * Decodes an Ethernet/IPv4 ARP packet (RFC 826). Bytes past the 28 that ARP uses are Ethernet
 * padding and are ignored. Any other hardware/protocol pairing is `unsupported`.
 */
export function decodeArp(buf: Buffer): Result<ArpPacket> {
  const short = needBytes(buf, 0, ARP_PACKET_LENGTH, 'ARP packet');
  if (short) return short;
  const htype = buf.readUInt16BE(0);
  if (htype !== HTYPE_ETHERNET) {
    return fail('unsupported', `ARP hardware type ${htype}, only Ethernet (1)`, {
      offset: 0,
      field: 'htype',
    });
  }
  const ptype = buf.readUInt16BE(2);
  if (ptype !== ETHERTYPE_IPV4) {
    return fail('unsupported', `ARP protocol type 0x${ptype.toString(16)}, only IPv4 (0x0800)`, {
      offset: 2,
      field: 'ptype',
    });
  }
  if (buf[4] !== MAC_LENGTH) {
    return fail('unsupported', `ARP hardware address length ${buf[4]}, Ethernet needs 6`, {
      offset: 4,
      field: 'hlen',
    });
  }
  if (buf[5] !== IPV4_LENGTH) {
    return fail('unsupported', `ARP protocol address length ${buf[5]}, IPv4 needs 4`, {
      offset: 5,
      field: 'plen',
    });
  }
  const op = buf.readUInt16BE(6);
  if (op !== OP_REQUEST && op !== OP_REPLY) {
    return fail('unsupported', `ARP operation ${op}, only request (1) and reply (2)`, {
      offset: 6,
      field: 'operation',
    });
  }
  const packet: ArpPacket = {
    operation: op === OP_REQUEST ? 'request' : 'reply',
    senderMac: Buffer.from(buf.subarray(8, 14)),
    senderIp: Buffer.from(buf.subarray(14, 18)),
    targetMac: Buffer.from(buf.subarray(18, 24)),
    targetIp: Buffer.from(buf.subarray(24, 28)),
  };
  return ok(packet);
}

/** Encodes exactly 28 bytes (no Ethernet header, no padding). */
export function encodeArp(packet: ArpPacket): Buffer {
  if (packet.operation !== 'request' && packet.operation !== 'reply') {
    throw new RangeError(`arp.operation must be 'request' or 'reply', got ${String(packet.operation)}`);
  }
  requireLength(packet.senderMac, MAC_LENGTH, 'arp.senderMac');
  requireLength(packet.senderIp, IPV4_LENGTH, 'arp.senderIp');
  requireLength(packet.targetMac, MAC_LENGTH, 'arp.targetMac');
  requireLength(packet.targetIp, IPV4_LENGTH, 'arp.targetIp');
  const out = Buffer.alloc(ARP_PACKET_LENGTH);
  out.writeUInt16BE(HTYPE_ETHERNET, 0);
  out.writeUInt16BE(ETHERTYPE_IPV4, 2);
  out[4] = MAC_LENGTH;
  out[5] = IPV4_LENGTH;
  out.writeUInt16BE(packet.operation === 'request' ? OP_REQUEST : OP_REPLY, 6);
  packet.senderMac.copy(out, 8);
  packet.senderIp.copy(out, 14);
  packet.targetMac.copy(out, 18);
  packet.targetIp.copy(out, 24);
  return out;
}

/** Wraps an ARP packet in an Ethernet frame (padded to 60 bytes). */
export function encodeArpFrame(args: {
  destination: Buffer;
  source: Buffer;
  vlan?: VlanTag;
  arp: ArpPacket;
}): Buffer {
  return encodeEthernet({
    destination: args.destination,
    source: args.source,
    ...(args.vlan ? { vlan: args.vlan } : {}),
    etherType: ETHERTYPE_ARP,
    payload: encodeArp(args.arp),
  });
}

/**
 * The answer to "who has `vip`?": an ARP reply unicast to the asker, saying `vip` is at `ourMac`.
 * Pass the request's `vlan` to answer on the same tagged segment.
 */
export function arpReply(args: {
  ourMac: Buffer;
  vip: Buffer;
  askerMac: Buffer;
  askerIp: Buffer;
  vlan?: VlanTag;
}): Buffer {
  return encodeArpFrame({
    destination: args.askerMac,
    source: args.ourMac,
    ...(args.vlan ? { vlan: args.vlan } : {}),
    arp: {
      operation: 'reply',
      senderMac: args.ourMac,
      senderIp: args.vip,
      targetMac: args.askerMac,
      targetIp: args.askerIp,
    },
  });
}

/**
 * A broadcast gratuitous ARP that moves every neighbour's cache entry for `ip` to `mac`.
 * Both forms set sender IP = target IP = `ip` and sender MAC = `mac`.
 * - 'request' is the RFC 5227 §2.3 ARP Announcement: target MAC is ignored by receivers and, as
 *   for probes (§2.1.1), set to zero.
 * - 'reply' follows RFC 5944 §4.6, which says a gratuitous ARP Reply carries the new link-layer
 *   address in the target hardware field too, so target MAC = `mac`.
 * Hosts differ in which form they act on (some only update on requests, some on replies), which
 * is why announcers send both.
 */
export function gratuitousArp(args: { mac: Buffer; ip: Buffer; kind: ArpOperation; vlan?: VlanTag }): Buffer {
  return encodeArpFrame({
    destination: BROADCAST_MAC,
    source: args.mac,
    ...(args.vlan ? { vlan: args.vlan } : {}),
    arp: {
      operation: args.kind,
      senderMac: args.mac,
      senderIp: args.ip,
      targetMac: args.kind === 'request' ? ZERO_MAC : args.mac,
      targetIp: args.ip,
    },
  });
}
