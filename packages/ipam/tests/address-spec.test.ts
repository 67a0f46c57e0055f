import { describe, expect, it } from '@jest/globals';
import { formatIp, formatRange, parseAddressSpec, parseIp, rangeSize } from '../src/index.js';

const ok = (spec: string): string => {
  const r = parseAddressSpec(spec);
  if (!r.ok) throw new Error(`expected ${spec} to parse: ${r.error.message}`);
  return `${formatIp({ family: r.value.family, value: r.value.first })}..${formatIp({ family: r.value.family, value: r.value.last })}`;
};

describe('parseAddressSpec', () => {
  it.each([
    ['203.0.113.0/28', '203.0.113.0..203.0.113.15'],
    ['203.0.113.5', '203.0.113.5..203.0.113.5'],
    ['203.0.113.5/32', '203.0.113.5..203.0.113.5'],
    ['203.0.113.10-203.0.113.20', '203.0.113.10..203.0.113.20'],
    ['203.0.113.10 - 203.0.113.20', '203.0.113.10..203.0.113.20'],
    ['203.0.113.7/24', '203.0.113.0..203.0.113.255'],
    ['0.0.0.0/0', '0.0.0.0..255.255.255.255'],
    ['10.0.0.0/8', '10.0.0.0..10.255.255.255'],
    ['2001:db8::/120', '2001:db8::..2001:db8::ff'],
    ['2001:DB8::1/128', '2001:db8::1..2001:db8::1'],
    ['2001:db8::1', '2001:db8::1..2001:db8::1'],
    ['2001:db8::1-2001:db8::1:0', '2001:db8::1..2001:db8::1:0'],
    ['2001:db8:1::/64', '2001:db8:1::..2001:db8:1:0:ffff:ffff:ffff:ffff'],
  ])('%s -> %s', (spec, want) => expect(ok(spec)).toBe(want));

  it.each([
    ['203.0.113.300', '"203.0.113.300" is not a valid IPv4 address: octet 300 > 255'],
    ['203.0.113.20-203.0.113.10', 'range start 203.0.113.20 is after end 203.0.113.10'],
    ['203.0.113.1-2001:db8::1', 'range start 203.0.113.1 is IPv4 but end 2001:db8::1 is IPv6'],
    ['203.0.113.0/33', 'prefix length "33" is not a number from 0 to 32 for IPv4'],
    ['2001:db8::/129', 'prefix length "129" is not a number from 0 to 128 for IPv6'],
    ['203.0.113', 'expected 4 octets, found 3'],
    ['010.0.0.1', 'leading zero'],
    ['fe80::1%eth0', 'zone indexes are not allowed'],
    ['hello', 'not a valid IP address'],
    ['', 'empty address'],
    ['10.0.0.1-', 'a range needs a start and an end'],
    ['2001:db8:::1', 'not a valid IPv6 address'],
  ])('%s is refused: %s', (spec, fragment) => {
    const r = parseAddressSpec(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.spec).toBe(spec);
      expect(r.error.message).toContain(fragment);
      expect(r.error.message).toContain(`"${spec}"`);
    }
  });
});

describe('formatting', () => {
  it('prints IPv6 in RFC 5952 form', () => {
    for (const [input, want] of [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['::', '::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ] as const) {
      const p = parseIp(input);
      expect(p.ok && formatIp(p.value)).toBe(want);
    }
  });

  it('prints ranges as CIDR when they are one', () => {
    const r = parseAddressSpec('203.0.113.16-203.0.113.31');
    expect(r.ok && formatRange(r.value)).toBe('203.0.113.16/28');
    const s = parseAddressSpec('203.0.113.16-203.0.113.30');
    expect(s.ok && formatRange(s.value)).toBe('203.0.113.16-203.0.113.30');
    const t = parseAddressSpec('2001:db8::/64');
    expect(t.ok && rangeSize(t.value)).toBe(2n ** 64n);
  });
});
