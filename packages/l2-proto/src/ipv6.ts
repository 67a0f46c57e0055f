import { IPV6_LENGTH } from './ip-address.js';
import { fail, needBytes, ok, requireInt, requireLength, shiftError, type Result } from './result.js';

export const IPV6_HEADER_LENGTH = 40;
export const NEXT_HEADER_HOP_BY_HOP = 0;
export const NEXT_HEADER_ICMPV6 = 58;
export const NEXT_HEADER_NONE = 59;
/** A Hop-by-Hop header is at least 8 bytes and always a multiple of 8 (RFC 8200 §4.3). */
const HOP_BY_HOP_UNIT = 8;

export interface Ipv6Packet {
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** Upper-layer protocol: when a Hop-by-Hop header is present, the one it names, not 0. */
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: Buffer;
  readonly destination: Buffer;
  /**
   * The option area of a Hop-by-Hop header (everything after its 2-byte next-header/length
   * prefix), kept raw. Its length + 2 is a multiple of 8.
   */
  readonly hopByHopOptions?: Buffer;
  /** The upper-layer payload: a view into the decoded buffer, not a copy. */
  readonly payload: Buffer;
}

/** Checks the TLV layout of Hop-by-Hop options (RFC 8200 §4.2): every option fits. */
function checkOptionArea(area: Buffer): Result<true> {
  let at = 0;
  while (at < area.length) {
    const type = area[at] as number;
    if (type === 0) {
      at += 1; // Pad1 has no length byte
      continue;
    }
    if (at + 2 > area.length) {
      return fail('malformed', `Hop-by-Hop option type ${type} has no length byte`, {
        offset: at,
        field: 'hopByHop.option',
      });
    }
    const end = at + 2 + (area[at + 1] as number);
    if (end > area.length) {
      return fail(
        'malformed',
        `Hop-by-Hop option type ${type} runs ${end - area.length} bytes past the header`,
        {
          offset: at,
          field: 'hopByHop.option.length',
        },
      );
    }
    at = end;
  }
  return ok(true);
}

/**
 * Decodes the fixed IPv6 header and, if present, one Hop-by-Hop header. Bytes beyond the payload
 * length are Ethernet padding and are ignored; fewer than it promises is `short-buffer`.
 * Addresses are copies; `payload` and `hopByHopOptions` are views.
 */
export function decodeIpv6(buf: Buffer): Result<Ipv6Packet> {
  const short = needBytes(buf, 0, IPV6_HEADER_LENGTH, 'IPv6 header');
  if (short) return short;
  const word = buf.readUInt32BE(0);
  const version = word >>> 28;
  if (version !== 6)
    return fail('malformed', `IP version ${version} in an IPv6 header`, { offset: 0, field: 'version' });
  const payloadLength = buf.readUInt16BE(4);
  let nextHeader = buf[6] as number;
  const hopLimit = buf[7] as number;
  if (payloadLength === 0 && nextHeader === NEXT_HEADER_HOP_BY_HOP) {
    return fail('unsupported', 'payload length 0 with a Hop-by-Hop header: a jumbogram', {
      offset: 4,
      field: 'payloadLength',
    });
  }
  const shortPayload = needBytes(
    buf,
    IPV6_HEADER_LENGTH,
    payloadLength,
    `IPv6 payload (payload length ${payloadLength})`,
  );
  if (shortPayload) return shortPayload;
  let payloadStart = IPV6_HEADER_LENGTH;
  const payloadEnd = IPV6_HEADER_LENGTH + payloadLength;
  let hopByHopOptions: Buffer | undefined;

  if (nextHeader === NEXT_HEADER_HOP_BY_HOP) {
    const within = buf.subarray(0, payloadEnd);
    const shortHbh = needBytes(within, payloadStart, HOP_BY_HOP_UNIT, 'Hop-by-Hop header');
    if (shortHbh) return shortHbh;
    const hbhLength = ((buf[payloadStart + 1] as number) + 1) * HOP_BY_HOP_UNIT;
    const shortBody = needBytes(within, payloadStart, hbhLength, `Hop-by-Hop header (${hbhLength} bytes)`);
    if (shortBody) return shortBody;
    const innerNext = buf[payloadStart] as number;
    if (innerNext === NEXT_HEADER_HOP_BY_HOP) {
      return fail('malformed', 'a second Hop-by-Hop header (RFC 8200 allows it only first)', {
        offset: payloadStart,
        field: 'hopByHop.nextHeader',
      });
    }
    hopByHopOptions = buf.subarray(payloadStart + 2, payloadStart + hbhLength);
    const layout = checkOptionArea(hopByHopOptions);
    if (!layout.ok) return shiftError(layout, payloadStart + 2);
    nextHeader = innerNext;
    payloadStart += hbhLength;
  }

  const packet: Ipv6Packet = {
    trafficClass: (word >>> 20) & 0xff,
    flowLabel: word & 0xfffff,
    nextHeader,
    hopLimit,
    source: Buffer.from(buf.subarray(8, 24)),
    destination: Buffer.from(buf.subarray(24, 40)),
    ...(hopByHopOptions ? { hopByHopOptions } : {}),
    payload: buf.subarray(payloadStart, payloadEnd),
  };
  return ok(packet);
}

export function encodeIpv6(packet: Ipv6Packet): Buffer {
  requireInt(packet.trafficClass, 0, 0xff, 'ipv6.trafficClass');
  requireInt(packet.flowLabel, 0, 0xfffff, 'ipv6.flowLabel');
  requireInt(packet.nextHeader, 1, 0xff, 'ipv6.nextHeader');
  requireInt(packet.hopLimit, 0, 0xff, 'ipv6.hopLimit');
  requireLength(packet.source, IPV6_LENGTH, 'ipv6.source');
  requireLength(packet.destination, IPV6_LENGTH, 'ipv6.destination');
  const options = packet.hopByHopOptions;
  if (options) {
    if ((options.length + 2) % HOP_BY_HOP_UNIT !== 0 || options.length + 2 > 256 * HOP_BY_HOP_UNIT) {
      throw new RangeError(
        `ipv6.hopByHopOptions is ${options.length} bytes; length + 2 must be a multiple of 8, at most 2048`,
      );
    }
    if (!checkOptionArea(options).ok)
      throw new RangeError('ipv6.hopByHopOptions is not a valid option TLV sequence');
  }
  const hbhLength = options ? options.length + 2 : 0;
  const payloadLength = hbhLength + packet.payload.length;
  requireInt(payloadLength, 0, 0xffff, 'ipv6 payload length');
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + payloadLength);
  out.writeUInt32BE(((6 << 28) | (packet.trafficClass << 20) | packet.flowLabel) >>> 0, 0);
  out.writeUInt16BE(payloadLength, 4);
  out[6] = options ? NEXT_HEADER_HOP_BY_HOP : packet.nextHeader;
  out[7] = packet.hopLimit;
  packet.source.copy(out, 8);
  packet.destination.copy(out, 24);
  if (options) {
    out[IPV6_HEADER_LENGTH] = packet.nextHeader;
    out[IPV6_HEADER_LENGTH + 1] = hbhLength / HOP_BY_HOP_UNIT - 1;
    options.copy(out, IPV6_HEADER_LENGTH + 2);
  }
  packet.payload.copy(out, IPV6_HEADER_LENGTH + hbhLength);
  return out;
}
