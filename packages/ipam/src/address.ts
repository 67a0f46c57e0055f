import ipaddr from 'ipaddr.js';
import { err, ok } from './result.js';
import type { Family, Result } from './result.js';

/** One IP address as a number: arithmetic on bigints keeps IPv4 and IPv6 on one code path. */
export interface IpValue {
  family: Family;
  value: bigint;
}

export const FAMILY_BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** Parses one address. The reason names what is wrong, without the address itself. */
export function parseIp(text: string): Result<IpValue, string> {
  if (text.includes(':')) return parseIpv6(text);
  if (/^[0-9.]+$/.test(text)) return parseIpv4(text);
  return err('not a valid IP address');
}

// Written by hand rather than with ipaddr.js: its IPv4 parser accepts hex, octal and short forms
// ("0x7f.1", "127.1") that nobody means in a pool, and it cannot say which octet is wrong.
function parseIpv4(text: string): Result<IpValue, string> {
  const parts = text.split('.');
  if (parts.length !== 4) return err(`not a valid IPv4 address: expected 4 octets, found ${parts.length}`);
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) {
      return err(`not a valid IPv4 address: octet "${part}" is not a number from 0 to 255`);
    }
    if (part.length > 1 && part.startsWith('0')) {
      return err(`not a valid IPv4 address: octet "${part}" has a leading zero`);
    }
    const octet = Number(part);
    if (octet > 255) return err(`not a valid IPv4 address: octet ${octet} > 255`);
    value = (value << 8n) | BigInt(octet);
  }
  return ok({ family: 4, value });
}

function parseIpv6(text: string): Result<IpValue, string> {
  if (text.includes('%')) return err('not a valid IPv6 address: zone indexes are not allowed');
  // One parse, not isValid and then parse: both run the whole parser (a pool may list thousands).
  let parts: number[];
  try {
    parts = ipaddr.IPv6.parse(text).parts;
  } catch {
    return err('not a valid IPv6 address');
  }
  let value = 0n;
  for (const part of parts) value = (value << 16n) | BigInt(part);
  return ok({ family: 6, value });
}

/** Canonical text: dotted quad for IPv4, RFC 5952 (lower case, longest zero run compressed) for IPv6. */
export function formatIp(ip: IpValue): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  return new ipaddr.IPv6(groups).toRFC5952String();
}

/** Normalises an address string; the error reason is prefixed with the text. */
export function canonicalIp(text: string): Result<string, string> {
  const parsed = parseIp(text.trim());
  if (!parsed.ok) return err(`"${text}" is ${parsed.error}`);
  return ok(formatIp(parsed.value));
}
