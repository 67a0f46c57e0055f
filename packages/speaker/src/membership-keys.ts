import { keysProblem, type MembershipKeys } from '@metallb-ts/membership';
import { MEMBERLIST } from '@metallb-ts/manifests';

export interface SecretLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly data?: Readonly<Record<string, string>>;
}

export type KeysResult = { ok: true; keys: MembershipKeys } | { ok: false; problem: string };

/**
 * The gossip keys from the Secret: `secretkey` signs, `secretkey-secondary` (optional) is also
 * accepted, so a rotation loses nothing. Pure; every problem names the Secret and the key.
 */
export function keysFromSecret(secret: SecretLike | undefined, where: string): KeysResult {
  if (!secret) return { ok: false, problem: `Secret ${where} not found: no gossip key, so no membership` };
  const decode = (name: string): Buffer | undefined => {
    const raw = secret.data?.[name];
    return raw === undefined || raw === '' ? undefined : Buffer.from(raw, 'base64');
  };
  const primary = decode(MEMBERLIST.key);
  if (!primary) return { ok: false, problem: `Secret ${where} has no key "${MEMBERLIST.key}"` };
  const secondary = decode(MEMBERLIST.secondaryKey);
  const keys: MembershipKeys = secondary ? { primary, secondary } : { primary };
  const problem = keysProblem(keys);
  return problem ? { ok: false, problem: `Secret ${where}: ${problem}` } : { ok: true, keys };
}

/**
 * The keys the state machine reads on every packet: swapped in place when the Secret changes, so
 * a rotation needs no restart and no rejoin.
 */
export class KeyRing implements MembershipKeys {
  constructor(private current: MembershipKeys) {}

  get primary(): Buffer {
    return this.current.primary;
  }

  get secondary(): Buffer | undefined {
    return this.current.secondary;
  }

  set(keys: MembershipKeys): boolean {
    const same =
      keys.primary.equals(this.current.primary) &&
      (keys.secondary?.toString('hex') ?? '') === (this.current.secondary?.toString('hex') ?? '');
    this.current = keys;
    return !same;
  }
}
