import { MAC_LENGTH } from './mac.js';
import { fail, needBytes, ok, requireInt, requireLength, type Result } from './result.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_IPV6 = 0x86dd;

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
/** 64-byte minimum frame minus the 4-byte FCS, which the NIC adds and strips. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;
/** Below this the 2 bytes after the source MAC are an IEEE 802.3 length, not an EtherType. */
const FIRST_ETHERTYPE = 0x0600;

export interface VlanTag {
  /** Priority code point, 0-7. */
  readonly pcp: number;
  /** Drop eligible indicator. */
  readonly dei: boolean;
  /** VLAN identifier, 0-4095. */
  readonly id: number;
}

export interface EthernetFrame {
  readonly destination: Buffer;
  readonly source: Buffer;
  /** Present when the frame carried one 802.1Q tag. */
  readonly vlan?: VlanTag;
  /** The EtherType after the tag, if any. */
  readonly etherType: number;
  /** Everything after the header including any padding: a view into the decoded buffer, not a copy. */
  readonly payload: Buffer;
}

/** Decodes Ethernet II with at most one 802.1Q tag. Addresses are copies; `payload` is a view. */
export function decodeEthernet(buf: Buffer): Result<EthernetFrame> {
  const short = needBytes(buf, 0, ETHERNET_HEADER_LENGTH, 'Ethernet header');
  if (short) return short;
  let etherType = buf.readUInt16BE(12);
  let headerLength = ETHERNET_HEADER_LENGTH;
  let vlan: VlanTag | undefined;

  if (etherType === ETHERTYPE_VLAN) {
    const shortTag = needBytes(
      buf,
      0,
      ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH,
      '802.1Q-tagged Ethernet header',
    );
    if (shortTag) return shortTag;
    const tci = buf.readUInt16BE(14);
    vlan = { pcp: tci >> 13, dei: (tci & 0x1000) !== 0, id: tci & 0x0fff };
    etherType = buf.readUInt16BE(16);
    headerLength += VLAN_TAG_LENGTH;
    if (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) {
      return fail('unsupported', `stacked VLAN tags (inner EtherType 0x${etherType.toString(16)})`, {
        offset: 16,
        field: 'etherType',
      });
    }
  }
  if (etherType < FIRST_ETHERTYPE) {
    return fail('unsupported', `IEEE 802.3 length field ${etherType}, not an Ethernet II EtherType`, {
      offset: headerLength - 2,
      field: 'etherType',
    });
  }
  const frame: EthernetFrame = {
    destination: Buffer.from(buf.subarray(0, 6)),
    source: Buffer.from(buf.subarray(6, 12)),
    ...(vlan ? { vlan } : {}),
    etherType,
    payload: buf.subarray(headerLength),
  };
  return ok(frame);
}

/** Encodes into a fresh Buffer, zero-padded to the 60-byte Ethernet minimum. */
export function encodeEthernet(frame: EthernetFrame): Buffer {
  requireLength(frame.destination, MAC_LENGTH, 'ethernet.destination');
  requireLength(frame.source, MAC_LENGTH, 'ethernet.source');
  requireInt(frame.etherType, FIRST_ETHERTYPE, 0xffff, 'ethernet.etherType');
  if (frame.vlan) {
    requireInt(frame.vlan.pcp, 0, 7, 'ethernet.vlan.pcp');
    requireInt(frame.vlan.id, 0, 0x0fff, 'ethernet.vlan.id');
  }
  // A bare 0x8100, or a tag around another tag, would decode as something else: refuse both.
  if (frame.etherType === ETHERTYPE_VLAN || (frame.vlan && frame.etherType === ETHERTYPE_QINQ)) {
    throw new RangeError(`ethernet.etherType 0x${frame.etherType.toString(16)} is a tag; use ethernet.vlan`);
  }
  const headerLength = ETHERNET_HEADER_LENGTH + (frame.vlan ? VLAN_TAG_LENGTH : 0);
  const out = Buffer.alloc(Math.max(ETHERNET_MIN_FRAME_LENGTH, headerLength + frame.payload.length));
  frame.destination.copy(out, 0);
  frame.source.copy(out, 6);
  let at = 12;
  if (frame.vlan) {
    out.writeUInt16BE(ETHERTYPE_VLAN, 12);
    out.writeUInt16BE((frame.vlan.pcp << 13) | (frame.vlan.dei ? 0x1000 : 0) | frame.vlan.id, 14);
    at = 16;
  }
  out.writeUInt16BE(frame.etherType, at);
  frame.payload.copy(out, headerLength);
  return out;
}
