import { fail, ok, requireLength, type Result } from './result.js';

export const IPV4_LENGTH = 4;
export const IPV6_LENGTH = 16;

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

function badAddress(family: string, text: unknown, why: string) {
  return fail('malformed', `${family} address ${JSON.stringify(text)}: ${why}`, { field: 'address' });
}

/**
 * Dotted quad to 4 bytes. Strict: exactly four decimal parts 0-255 without leading zeros (a
 * leading zero means octal to inet_aton, so `010.0.0.1` is ambiguous and refused).
 */
export function ipv4ToBytes(text: string): Result<Buffer> {
  if (typeof text !== 'string') return badAddress('IPv4', text, 'not a string');
  const parts = text.split('.');
  if (parts.length !== 4) return badAddress('IPv4', text, `has ${parts.length} dot-separated parts, needs 4`);
  const bytes = Buffer.alloc(IPV4_LENGTH);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!DECIMAL_OCTET.test(part))
      return badAddress('IPv4', text, `part ${JSON.stringify(part)} is not a decimal octet`);
    const value = Number(part);
    if (value > 255) return badAddress('IPv4', text, `part ${part} is above 255`);
    bytes[i] = value;
  }
  return ok(bytes);
}

export function bytesToIpv4(bytes: Buffer): string {
  requireLength(bytes, IPV4_LENGTH, 'ipv4');
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * RFC 4291 §2.2 text forms to 16 bytes: full, `::`-compressed (once), and a trailing dotted quad.
 * Zone ids (`%eth0`) and prefix lengths are refused: they are not part of an address.
 */
export function ipv6ToBytes(text: string): Result<Buffer> {
  if (typeof text !== 'string') return badAddress('IPv6', text, 'not a string');
  if (text.length === 0 || text.length > 45)
    return badAddress('IPv6', text, 'wrong length for an IPv6 address');
  const halves = text.split('::');
  if (halves.length > 2) return badAddress('IPv6', text, "'::' appears more than once");
  const compressed = halves.length === 2;

  const groupsOf = (half: string, mayEndInIpv4: boolean): number[] | string => {
    if (half === '') return [];
    const pieces = half.split(':');
    const groups: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (mayEndInIpv4 && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = ipv4ToBytes(piece);
        if (!v4.ok) return `embedded IPv4 ${JSON.stringify(piece)} is malformed`;
        groups.push(v4.value.readUInt16BE(0), v4.value.readUInt16BE(2));
      } else if (HEX_GROUP.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return `group ${JSON.stringify(piece)} is not 1-4 hex digits`;
      }
    }
    return groups;
  };

  const head = groupsOf(halves[0] as string, !compressed);
  if (typeof head === 'string') return badAddress('IPv6', text, head);
  const tail = compressed ? groupsOf(halves[1] as string, true) : [];
  if (typeof tail === 'string') return badAddress('IPv6', text, tail);

  const explicit = head.length + tail.length;
  if (compressed ? explicit > 7 : explicit !== 8) {
    return badAddress(
      'IPv6',
      text,
      compressed
        ? `'::' with ${explicit} groups leaves nothing to compress`
        : `has ${explicit} groups, needs 8`,
    );
  }
  const bytes = Buffer.alloc(IPV6_LENGTH);
  head.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  tail.forEach((g, i) => bytes.writeUInt16BE(g, (8 - tail.length + i) * 2));
  return ok(bytes);
}

/**
 * RFC 5952 canonical text: lower case, no leading zeros, the longest run (first on a tie) of two
 * or more zero groups as `::`, and IPv4-mapped addresses (::ffff:0:0/96) with a dotted quad.
 */
export function bytesToIpv6(bytes: Buffer): string {
  requireLength(bytes, IPV6_LENGTH, 'ipv6');
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(i * 2));

  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;

  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export function isIpv6Multicast(bytes: Buffer): boolean {
  return bytes.length === IPV6_LENGTH && bytes[0] === 0xff;
}

export function isIpv6Unspecified(bytes: Buffer): boolean {
  return bytes.length === IPV6_LENGTH && bytes.every((b) => b === 0);
}
