import { MAC_LENGTH } from './mac.js';
import { fail, ok, requireInt, requireLength, type Result } from './result.js';

export const NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS = 1;
export const NDP_OPTION_TARGET_LINK_LAYER_ADDRESS = 2;
/** Option lengths count 8-byte units, including the type and length bytes (RFC 4861 §4.6). */
const NDP_OPTION_UNIT = 8;
const NDP_OPTION_HEADER_LENGTH = 2;

export type NdpOption =
  /** Type 1 or 2 with an Ethernet (6-byte) address, i.e. length 1 (RFC 2464 §6). */
  | { readonly kind: 'source-link-layer-address'; readonly address: Buffer }
  | { readonly kind: 'target-link-layer-address'; readonly address: Buffer }
  /**
   * Any other option, or a link-layer option whose length is not Ethernet's, kept byte for byte
   * so a decode/encode round trip is lossless. `data` is what follows the type and length bytes;
   * its length + 2 is a multiple of 8.
   */
  | { readonly kind: 'raw'; readonly type: number; readonly data: Buffer };

/**
 * Parses an NDP option area to its end. A zero length is `malformed` (RFC 4861 §4.6 says to
 * discard such packets, and it would loop forever); an option running past the area is too.
 */
export function decodeNdpOptions(area: Buffer): Result<NdpOption[]> {
  const options: NdpOption[] = [];
  let at = 0;
  while (at < area.length) {
    if (area.length - at < NDP_OPTION_HEADER_LENGTH) {
      return fail('malformed', `${area.length - at} stray byte(s) where an NDP option header should be`, {
        offset: at,
        field: 'option',
      });
    }
    const type = area[at] as number;
    const units = area[at + 1] as number;
    if (units === 0) {
      return fail('malformed', `NDP option type ${type} has length 0 (RFC 4861 §4.6)`, {
        offset: at + 1,
        field: 'option.length',
      });
    }
    const size = units * NDP_OPTION_UNIT;
    if (at + size > area.length) {
      return fail(
        'malformed',
        `NDP option type ${type} claims ${size} bytes, only ${area.length - at} remain`,
        {
          offset: at + 1,
          field: 'option.length',
        },
      );
    }
    const data = area.subarray(at + NDP_OPTION_HEADER_LENGTH, at + size);
    const isEthernetAddress =
      units === 1 &&
      (type === NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS || type === NDP_OPTION_TARGET_LINK_LAYER_ADDRESS);
    if (isEthernetAddress) {
      options.push({
        kind:
          type === NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS
            ? 'source-link-layer-address'
            : 'target-link-layer-address',
        address: Buffer.from(data),
      });
    } else {
      options.push({ kind: 'raw', type, data: Buffer.from(data) });
    }
    at += size;
  }
  return ok(options);
}

export function ndpOptionsLength(options: readonly NdpOption[]): number {
  let total = 0;
  for (const option of options)
    total += option.kind === 'raw' ? NDP_OPTION_HEADER_LENGTH + option.data.length : NDP_OPTION_UNIT;
  return total;
}

/** Writes options at `offset` of `out` (which must have room: see ndpOptionsLength). */
export function writeNdpOptions(options: readonly NdpOption[], out: Buffer, offset: number): number {
  let at = offset;
  for (const option of options) {
    if (option.kind === 'raw') {
      requireInt(option.type, 0, 0xff, 'ndp option type');
      const size = NDP_OPTION_HEADER_LENGTH + option.data.length;
      if (size % NDP_OPTION_UNIT !== 0 || size > 255 * NDP_OPTION_UNIT) {
        throw new RangeError(
          `raw NDP option type ${option.type}: data is ${option.data.length} bytes; data + 2 must be a multiple of 8, at most 2040`,
        );
      }
      out[at] = option.type;
      out[at + 1] = size / NDP_OPTION_UNIT;
      option.data.copy(out, at + NDP_OPTION_HEADER_LENGTH);
      at += size;
    } else {
      requireLength(option.address, MAC_LENGTH, `ndp ${option.kind} option address`);
      out[at] =
        option.kind === 'source-link-layer-address'
          ? NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS
          : NDP_OPTION_TARGET_LINK_LAYER_ADDRESS;
      out[at + 1] = 1;
      option.address.copy(out, at + NDP_OPTION_HEADER_LENGTH);
      at += NDP_OPTION_UNIT;
    }
  }
  return at;
}

export function encodeNdpOptions(options: readonly NdpOption[]): Buffer {
  const out = Buffer.alloc(ndpOptionsLength(options));
  writeNdpOptions(options, out, 0);
  return out;
}

/** The first link-layer address option of the given kind, if any. */
export function findLinkLayerAddress(
  options: readonly NdpOption[],
  kind: 'source-link-layer-address' | 'target-link-layer-address',
): Buffer | undefined {
  for (const option of options) if (option.kind === kind) return option.address;
  return undefined;
}
