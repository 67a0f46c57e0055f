/**
 * Decoding never throws on input bytes: it returns a Result whose error names the reason (the
 * label of `metallb_ts_membership_rejected_total{reason}`), where (byte offset) and which field.
 *
 * Encoders take values built by this package or its caller; a value that breaks the encoder's
 * contract (a name with a capital letter, an incarnation above 2^32-1) is a programming error and
 * throws a RangeError naming the field.
 */
export type RejectReason =
  /** Shorter than the fixed header plus MAC, or a field runs past the end. */
  | 'truncated'
  /** Longer than a UDP datagram can be. */
  | 'too-large'
  /** A protocol version this build does not speak. */
  | 'bad-version'
  /** The HMAC matches neither the primary nor the secondary key. */
  | 'bad-mac'
  /** An authenticated packet with a message type this build does not know. */
  | 'unknown-type'
  /** An authenticated packet whose fields break the format (bad name, trailing bytes, bad enum). */
  | 'malformed'
  /** Already seen (same sender, incarnation and sequence), or older than the sender's window. */
  | 'replayed';

export const REJECT_REASONS: readonly RejectReason[] = [
  'truncated',
  'too-large',
  'bad-version',
  'bad-mac',
  'unknown-type',
  'malformed',
  'replayed',
];

export interface DecodeError {
  readonly reason: RejectReason;
  readonly message: string;
  /** Byte offset of the problem in the datagram. */
  readonly offset?: number;
  /** Wire field at fault, e.g. 'sender', 'updates[2].kind'. */
  readonly field?: string;
}

export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err = { readonly ok: false; readonly error: DecodeError };
export type Result<T> = Ok<T> | Err;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function fail(
  reason: RejectReason,
  message: string,
  where: { offset?: number; field?: string } = {},
): Err {
  return { ok: false, error: { reason, message, ...where } };
}

export function requireUint32(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${field} must be an integer in [0, 4294967295], got ${String(value)}`);
  }
}
