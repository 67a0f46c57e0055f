import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../src/index.js';

describe('IPv4 text <-> bytes', () => {
  it('parses a dotted quad', () => {
    expect(ipv4ToBytes('203.0.113.10')).toEqual({ ok: true, value: Buffer.from([203, 0, 113, 10]) });
    expect(ipv4ToBytes('0.0.0.0')).toEqual({ ok: true, value: Buffer.alloc(4) });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.-4',
    '1.2.3.4 ',
    '1..3.4',
    '0x1.2.3.4',
    '1.2.3.4/32',
  ])('rejects %j', (text) => {
    const result = ipv4ToBytes(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'malformed', field: 'address' });
  });

  it('round-trips every address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        const bytes = ipv4ToBytes(text);
        expect(bytes.ok).toBe(true);
        if (bytes.ok) expect(bytesToIpv4(bytes.value)).toBe(text);
      }),
    );
  });
});

describe('IPv6 text <-> bytes', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['ff02::1:ff00:a', 'ff0200000000000000000001ff00000a'],
    ['2001:DB8:1::10', '20010db8000100000000000000000010'],
    ['2001:db8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::198.51.100.7', '0064ff9b0000000000000000c6336407'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
  ])('parses %s', (text, expected) => {
    expect(ipv6ToBytes(text)).toEqual({ ok: true, value: Buffer.from(expected, 'hex') });
  });

  it.each([
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    'g::1',
    'fe80::1%eth0',
    '2001:db8::/64',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '::1.2.3',
    '::1.2.3.4:5',
    ' ::1',
  ])('rejects %j', (text) => {
    const result = ipv6ToBytes(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'malformed', field: 'address' });
  });

  it.each([
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // longest run wins
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // first of equal runs
    ['20010db8000100010001000100010000', '2001:db8:1:1:1:1:1:0'], // a single zero is not compressed
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
  ])('formats %s as RFC 5952 %s', (bytes, text) => {
    expect(bytesToIpv6(Buffer.from(bytes, 'hex'))).toBe(text);
  });

  it('round-trips every 16-byte value through canonical text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (raw) => {
        const bytes = Buffer.from(raw);
        expect(ipv6ToBytes(bytesToIpv6(bytes))).toEqual({ ok: true, value: bytes });
      }),
    );
  });

  it('accepts what fast-check considers a valid IPv6 text', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const bytes = ipv6ToBytes(text);
        expect(bytes.ok).toBe(true);
      }),
    );
  });
});
