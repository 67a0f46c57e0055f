import { fail, ok, requireLength, type Result } from './result.js';

export const MAC_LENGTH = 6;

/**
 * Shared constants: treat as read-only (a Buffer cannot be frozen). Encoders copy them into
 * fresh frames, so the frames never alias them.
 */
export const BROADCAST_MAC: Buffer = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC: Buffer = Buffer.alloc(MAC_LENGTH);

const MAC_TEXT = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

/** Parses `aa:bb:cc:dd:ee:ff` (or with `-`, not mixed) into a 6-byte Buffer. */
export function parseMac(text: string): Result<Buffer> {
  if (typeof text !== 'string' || !MAC_TEXT.test(text)) {
    return fail(
      'malformed',
      `MAC address ${JSON.stringify(text)} is not six hex pairs joined by ':' or '-'`,
      {
        field: 'mac',
      },
    );
  }
  const bytes = Buffer.alloc(MAC_LENGTH);
  for (let i = 0; i < MAC_LENGTH; i++) bytes[i] = parseInt(text.slice(i * 3, i * 3 + 2), 16);
  return ok(bytes);
}

/** Lower-case, colon-separated, as `ip link` prints it. */
export function formatMac(mac: Buffer): string {
  requireLength(mac, MAC_LENGTH, 'mac');
  let out = '';
  for (let i = 0; i < MAC_LENGTH; i++) {
    if (i > 0) out += ':';
    out += (mac[i] as number).toString(16).padStart(2, '0');
  }
  return out;
}

export function isBroadcast(mac: Buffer): boolean {
  return mac.length === MAC_LENGTH && mac.equals(BROADCAST_MAC);
}

/** Group bit (least significant bit of the first octet): broadcast and multicast both have it. */
export function isMulticastMac(mac: Buffer): boolean {
  return mac.length === MAC_LENGTH && ((mac[0] as number) & 0x01) === 0x01;
}
