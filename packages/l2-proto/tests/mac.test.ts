import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BROADCAST_MAC, ZERO_MAC, formatMac, isBroadcast, isMulticastMac, parseMac } from '../src/index.js';

describe('parseMac', () => {
  it('parses colon and hyphen forms, any case', () => {
    const colon = parseMac('02:42:AC:11:00:0a');
    const hyphen = parseMac('02-42-ac-11-00-0A');
    expect(colon).toEqual({ ok: true, value: Buffer.from([0x02, 0x42, 0xac, 0x11, 0x00, 0x0a]) });
    expect(hyphen).toEqual(colon);
  });

  it.each([
    '',
    '02:42:ac:11:00',
    '02:42:ac:11:00:0a:ff',
    '02:42-ac:11:00:0a',
    '2:42:ac:11:00:0a',
    '002:42:ac:11:00:0a',
    '02:42:ac:11:00:0g',
    ' 02:42:ac:11:00:0a',
    '0242.ac11.000a',
  ])('rejects %j with a typed error', (text) => {
    const result = parseMac(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('malformed');
      expect(result.error.field).toBe('mac');
      expect(result.error.message).toContain(JSON.stringify(text));
    }
  });

  it('round-trips through formatMac for every 6-byte value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        const mac = Buffer.from(bytes);
        const text = formatMac(mac);
        expect(text).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        expect(parseMac(text)).toEqual({ ok: true, value: mac });
      }),
    );
  });
});

describe('MAC predicates', () => {
  it('knows broadcast and group addresses', () => {
    expect(isBroadcast(BROADCAST_MAC)).toBe(true);
    expect(isBroadcast(ZERO_MAC)).toBe(false);
    expect(isBroadcast(Buffer.from('ffffffffffff00', 'hex'))).toBe(false);
    expect(isMulticastMac(Buffer.from('333300000001', 'hex'))).toBe(true);
    expect(isMulticastMac(Buffer.from('020000000001', 'hex'))).toBe(false);
  });

  it('formatMac refuses a buffer that is not 6 bytes', () => {
    expect(() => formatMac(Buffer.alloc(5))).toThrow(RangeError);
  });
});
