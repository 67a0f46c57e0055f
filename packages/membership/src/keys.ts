import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA-256, full 32-byte tag at the end of every packet. */
export const MAC_LENGTH = 32;
export const MIN_KEY_LENGTH = 16;

/**
 * The shared cluster keys. Packets are signed with `primary`; decoding accepts either key, so a
 * rotation loses nothing: first every member gets the new key as `secondary`, then it becomes
 * `primary` everywhere, then the old one is dropped.
 */
export interface MembershipKeys {
  readonly primary: Buffer;
  readonly secondary?: Buffer;
}

export type KeyName = 'primary' | 'secondary';

/** Why `keys` cannot be used, or undefined. The speaker turns this into a readiness failure. */
export function keysProblem(keys: MembershipKeys | undefined): string | undefined {
  if (!keys) return 'no membership key configured';
  for (const name of ['primary', 'secondary'] as const) {
    const key = keys[name];
    if (key === undefined && name === 'secondary') continue;
    if (!Buffer.isBuffer(key)) return `membership key ${name} must be a Buffer, got ${typeof key}`;
    if (key.length < MIN_KEY_LENGTH)
      return `membership key ${name} has ${key.length} bytes, at least ${MIN_KEY_LENGTH} are required`;
  }
  return undefined;
}

export function requireKeys(keys: MembershipKeys): void {
  const problem = keysProblem(keys);
  if (problem) throw new RangeError(problem);
}

export function sign(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

/** Which key signed `body` with `tag` (compared in constant time), or undefined for neither. */
export function verify(keys: MembershipKeys, body: Buffer, tag: Buffer): KeyName | undefined {
  if (tag.length !== MAC_LENGTH) return undefined;
  if (timingSafeEqual(sign(keys.primary, body), tag)) return 'primary';
  if (keys.secondary && timingSafeEqual(sign(keys.secondary, body), tag)) return 'secondary';
  return undefined;
}
