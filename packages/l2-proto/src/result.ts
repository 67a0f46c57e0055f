/**
 * Decoders never throw on input bytes or text: they return a Result. The error names what was
 * wrong, where (offset into the buffer the caller passed in) and, when it is one field, which.
 *
 * Encoders take values this package produced (or the caller built from parsed addresses). A value
 * that breaks the encoder's contract (a 5-byte MAC, a VLAN id above 4095) is a programming error,
 * not input, so encoders throw a RangeError naming the field instead of returning a Result.
 */
export type ProtoErrorCode = 'short-buffer' | 'bad-checksum' | 'unsupported' | 'malformed';

export interface ProtoError {
  readonly code: ProtoErrorCode;
  readonly message: string;
  /** Byte offset of the problem, relative to the buffer handed to the failing function. */
  readonly offset?: number;
  /** Wire field at fault, e.g. 'hopLimit', 'option.length', 'htype'. */
  readonly field?: string;
}

export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err = { readonly ok: false; readonly error: ProtoError };
export type Result<T> = Ok<T> | Err;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function fail(
  code: ProtoErrorCode,
  message: string,
  where: { offset?: number; field?: string } = {},
): Err {
  const error: ProtoError = { code, message, ...where };
  return { ok: false, error };
}

/** Re-bases an inner layer's error offset onto the enclosing buffer. */
export function shiftError(err: Err, by: number): Err {
  if (err.error.offset === undefined) return err;
  return { ok: false, error: { ...err.error, offset: err.error.offset + by } };
}

/** Checks that `buf` holds at least `need` bytes from `offset`; names the structure that was cut. */
export function needBytes(buf: Buffer, offset: number, need: number, what: string): Err | undefined {
  if (buf.length - offset >= need) return undefined;
  return fail(
    'short-buffer',
    `${what} needs ${need} bytes at offset ${offset}, only ${Math.max(0, buf.length - offset)} present`,
    { offset },
  );
}

/** Contract check for encoders (see the module comment for why this one throws). */
export function requireLength(buf: Buffer, length: number, field: string): void {
  if (!Buffer.isBuffer(buf) || buf.length !== length) {
    const got = Buffer.isBuffer(buf) ? `${buf.length} bytes` : typeof buf;
    throw new RangeError(`${field} must be a ${length}-byte Buffer, got ${got}`);
  }
}

export function requireInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${field} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}
