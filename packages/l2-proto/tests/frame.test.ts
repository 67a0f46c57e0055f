import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, type DecodedFrame } from '../src/index.js';
import {
  anyFrameArb,
  arpFrameArb,
  comparable,
  mldFrameArb,
  naFrameArb,
  nsFrameArb,
  otherFrameArb,
} from './arbitraries.js';

const kinds: Array<[string, fc.Arbitrary<DecodedFrame>]> = [
  ['arp', arpFrameArb],
  ['ndp-ns', nsFrameArb],
  ['ndp-na', naFrameArb],
  ['mldv2-report', mldFrameArb],
  ['other', otherFrameArb],
];

describe('decodeFrame / encodeFrame', () => {
  it.each(kinds)('%s: decode(encode(x)) == x', (kind, arb) => {
    fc.assert(
      fc.property(arb, (frame) => {
        const decoded = decodeFrame(encodeFrame(frame));
        if (!decoded.ok) throw new Error(`${kind}: ${decoded.error.code} ${decoded.error.message}`);
        expect(decoded.value.kind).toBe(kind);
        expect(comparable(decoded.value)).toEqual(comparable(frame));
      }),
    );
  });

  it.each(kinds)('%s: encode(decode(b)) == b for valid b', (_kind, arb) => {
    fc.assert(
      fc.property(arb, (frame) => {
        const bytes = encodeFrame(frame);
        const decoded = decodeFrame(bytes);
        if (!decoded.ok) throw new Error(decoded.error.message);
        expect(encodeFrame(decoded.value)).toEqual(bytes);
      }),
    );
  });

  it('every truncation of a valid frame is short-buffer or malformed, never a throw', () => {
    fc.assert(
      fc.property(
        anyFrameArb.filter((f) => f.kind !== 'other'),
        (frame) => {
          const bytes = encodeFrame(frame);
          const decoded = decodeFrame(bytes);
          if (!decoded.ok) throw new Error(decoded.error.message);
          // Bytes beyond what the message uses are padding; cutting into the message must fail.
          const used = bytes.length - trailingPadding(decoded.value, bytes);
          for (let len = 0; len < used; len++) {
            const result = decodeFrame(bytes.subarray(0, len));
            expect(result.ok).toBe(false);
            if (!result.ok) expect(['short-buffer', 'malformed']).toContain(result.error.code);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a flipped bit inside an ICMPv6 message or its addresses is a bad checksum', () => {
    fc.assert(
      fc.property(
        fc.oneof(nsFrameArb, naFrameArb, mldFrameArb),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (frame, pick, bit) => {
          const bytes = encodeFrame(frame);
          const decoded = decodeFrame(bytes);
          if (!decoded.ok || !('ipv6' in decoded.value)) throw new Error('expected an IPv6 frame');
          const ipStart = bytes.length - decoded.value.ethernet.payload.length;
          const icmpStart = decoded.value.ipv6.payload.byteOffset - bytes.byteOffset;
          // Covered bytes: the two addresses and the whole ICMPv6 message.
          const covered = [
            ...Array.from({ length: 32 }, (_, i) => ipStart + 8 + i),
            ...Array.from({ length: decoded.value.ipv6.payload.length }, (_, i) => icmpStart + i),
          ];
          const offset = covered[pick % covered.length] as number;
          const corrupt = Buffer.from(bytes);
          corrupt[offset] = (corrupt[offset] as number) ^ (1 << bit);
          const result = decodeFrame(corrupt);
          expect(result).toMatchObject({ ok: false, error: { code: 'bad-checksum', offset: icmpStart + 2 } });
        },
      ),
    );
  });

  it('gives frame-relative offsets for errors in inner layers', () => {
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(0x8100, 12);
    frame.writeUInt16BE(0x0806, 16);
    frame.writeUInt16BE(7, 18); // ARP htype 7
    expect(decodeFrame(frame)).toMatchObject({
      ok: false,
      error: { code: 'unsupported', field: 'htype', offset: 18 },
    });
  });
});

function trailingPadding(frame: DecodedFrame, bytes: Buffer): number {
  if (frame.kind === 'arp') return bytes.length - (bytes.length - frame.ethernet.payload.length + 28);
  if ('ipv6' in frame)
    return bytes.length - (frame.ipv6.payload.byteOffset - bytes.byteOffset + frame.ipv6.payload.length);
  return 0;
}
