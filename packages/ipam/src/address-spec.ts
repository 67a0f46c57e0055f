import { FAMILY_BITS, formatIp, parseIp } from './address.js';
import { err, familyName, ok } from './result.js';
import type { Family, Result } from './result.js';

/** A contiguous, inclusive block of addresses of one family. */
export interface AddressRange {
  family: Family;
  first: bigint;
  last: bigint;
}

/** Why an address spec was refused; `message` names the spec and the problem. */
export interface AddressSpecError {
  spec: string;
  reason: string;
  message: string;
}

function specError(spec: string, reason: string): { ok: false; error: AddressSpecError } {
  const message = reason.startsWith('not ') ? `"${spec}" is ${reason}` : `"${spec}": ${reason}`;
  return err({ spec, reason, message });
}

/** Number of addresses in a range. */
export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

/** Text form of a range: CIDR when it is exactly one, `a-b` otherwise. */
export function formatRange(range: AddressRange): string {
  const first = formatIp({ family: range.family, value: range.first });
  if (range.first === range.last) return first;
  const size = rangeSize(range);
  const bits = FAMILY_BITS[range.family];
  if ((size & (size - 1n)) === 0n && range.first % size === 0n) {
    const hostBits = size.toString(2).length - 1;
    return `${first}/${bits - hostBits}`;
  }
  return `${first}-${formatIp({ family: range.family, value: range.last })}`;
}

const MAX_SPEC_LENGTH = 256;

/**
 * Parses one entry of a pool's `addresses`: a CIDR (`203.0.113.0/28`), a range (`a-b`, spaces
 * around `-` allowed), or one address with or without `/32` / `/128`.
 */
export function parseAddressSpec(spec: string): Result<AddressRange, AddressSpecError> {
  if (typeof spec !== 'string') return specError(String(spec), 'not a string');
  if (spec.length > MAX_SPEC_LENGTH)
    return specError(spec.slice(0, 64) + '…', `longer than ${MAX_SPEC_LENGTH} characters`);
  const text = spec.trim();
  if (text === '') return specError(spec, 'empty address');
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const startText = text.slice(0, dash).trim();
    const endText = text.slice(dash + 1).trim();
    if (startText === '' || endText === '')
      return specError(spec, 'a range needs a start and an end address, like 203.0.113.10-203.0.113.20');
    const start = parseIp(startText);
    if (!start.ok) return specError(spec, `range start "${startText}" is ${start.error}`);
    const end = parseIp(endText);
    if (!end.ok) return specError(spec, `range end "${endText}" is ${end.error}`);
    if (start.value.family !== end.value.family) {
      return specError(
        spec,
        `range start ${startText} is ${familyName(start.value.family)} but end ${endText} is ${familyName(end.value.family)}`,
      );
    }
    if (start.value.value > end.value.value) {
      return specError(spec, `range start ${formatIp(start.value)} is after end ${formatIp(end.value)}`);
    }
    return ok({ family: start.value.family, first: start.value.value, last: end.value.value });
  }
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const addr = parseIp(addrText);
  if (!addr.ok) return specError(spec, slash < 0 ? addr.error : `address "${addrText}" is ${addr.error}`);
  const bits = FAMILY_BITS[addr.value.family];
  if (slash < 0) return ok({ family: addr.value.family, first: addr.value.value, last: addr.value.value });
  const prefixText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return specError(
      spec,
      `prefix length "${prefixText}" is not a number from 0 to ${bits} for ${familyName(addr.value.family)}`,
    );
  }
  const hostBits = BigInt(bits - Number(prefixText));
  const mask = (1n << hostBits) - 1n;
  // Like MetalLB (Go's net.ParseCIDR), host bits are dropped: 203.0.113.5/24 means 203.0.113.0/24.
  const first = addr.value.value & ~mask;
  return ok({ family: addr.value.family, first, last: first | mask });
}

const joined = new WeakMap<readonly AddressRange[], readonly AddressRange[]>();

/**
 * The same addresses as `ranges`, sorted by family then first address, with ranges that touch or
 * overlap joined into one: a pool listing 2,000 consecutive /128s is one range here. Remembered
 * per array (a pool's ranges are never changed in place), as the allocator asks on every pool
 * change for every pool.
 */
export function joinedRanges(ranges: readonly AddressRange[]): readonly AddressRange[] {
  const known = joined.get(ranges);
  if (known !== undefined) return known;
  const sorted = [...ranges].sort((a, b) =>
    a.family !== b.family ? a.family - b.family : a.first < b.first ? -1 : a.first > b.first ? 1 : 0,
  );
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last !== undefined && last.family === r.family && r.first <= last.last + 1n) {
      if (r.last > last.last) out[out.length - 1] = { family: last.family, first: last.first, last: r.last };
    } else out.push({ family: r.family, first: r.first, last: r.last });
  }
  joined.set(ranges, out);
  return out;
}
