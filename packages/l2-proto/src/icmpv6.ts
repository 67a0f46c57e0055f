import { IPV6_LENGTH } from './ip-address.js';
import { NEXT_HEADER_ICMPV6 } from './ipv6.js';
import { fail, needBytes, ok, requireInt, requireLength, type Result } from './result.js';

export const ICMPV6_HEADER_LENGTH = 4;
export const ICMPV6_MLD_QUERY = 130;
export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const ICMPV6_MLDV2_REPORT = 143;

export interface Icmpv6Message {
  readonly type: number;
  readonly code: number;
  /** Everything after type, code and checksum: a view, not a copy. */
  readonly body: Buffer;
}

/** One's-complement sum of 16-bit big-endian words, folded; an odd last byte is padded with zero. */
function sumWords(buf: Buffer, sum: number): number {
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (buf[i] as number) * 256 + (buf[i + 1] as number);
  if (even !== buf.length) sum += (buf[even] as number) * 256;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Internet checksum of an ICMPv6 message with the RFC 8200 §8.1 pseudo-header (source,
 * destination, 32-bit upper-layer length, next header 58). Over a message whose checksum field
 * holds a correct value this returns 0.
 */
export function icmpv6Checksum(message: Buffer, source: Buffer, destination: Buffer): number {
  let sum = sumWords(source, 0);
  sum = sumWords(destination, sum);
  sum += Math.floor(message.length / 0x10000) + (message.length & 0xffff) + NEXT_HEADER_ICMPV6;
  sum = sumWords(message, sum);
  return ~fold(sum) & 0xffff;
}

/** Decodes and verifies the checksum of the ICMPv6 message that is an IPv6 packet's payload. */
export function decodeIcmpv6(packet: {
  source: Buffer;
  destination: Buffer;
  payload: Buffer;
}): Result<Icmpv6Message> {
  const bytes = packet.payload;
  const short = needBytes(bytes, 0, ICMPV6_HEADER_LENGTH, 'ICMPv6 header');
  if (short) return short;
  if (packet.source.length !== IPV6_LENGTH || packet.destination.length !== IPV6_LENGTH) {
    return fail('malformed', 'ICMPv6 checksum needs 16-byte source and destination addresses', {
      field: 'address',
    });
  }
  const residue = icmpv6Checksum(bytes, packet.source, packet.destination);
  if (residue !== 0) {
    return fail(
      'bad-checksum',
      `ICMPv6 checksum 0x${bytes.readUInt16BE(2).toString(16)} does not match the message`,
      {
        offset: 2,
        field: 'checksum',
      },
    );
  }
  const message: Icmpv6Message = {
    type: bytes[0] as number,
    code: bytes[1] as number,
    body: bytes.subarray(ICMPV6_HEADER_LENGTH),
  };
  return ok(message);
}

/** Encodes an ICMPv6 message with its checksum computed for the given IPv6 addresses. */
export function encodeIcmpv6(message: Icmpv6Message, source: Buffer, destination: Buffer): Buffer {
  requireInt(message.type, 0, 0xff, 'icmpv6.type');
  requireInt(message.code, 0, 0xff, 'icmpv6.code');
  requireLength(source, IPV6_LENGTH, 'icmpv6 pseudo-header source');
  requireLength(destination, IPV6_LENGTH, 'icmpv6 pseudo-header destination');
  const out = Buffer.alloc(ICMPV6_HEADER_LENGTH + message.body.length);
  out[0] = message.type;
  out[1] = message.code;
  message.body.copy(out, ICMPV6_HEADER_LENGTH);
  out.writeUInt16BE(icmpv6Checksum(out, source, destination), 2);
  return out;
}
