import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  decodeEthernet,
  encodeEthernet,
} from '../src/index.js';
import type { EthernetFrame } from '../src/index.js';
import { hex } from './hex.js';

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b));
const etherType = fc
  .integer({ min: 0x0600, max: 0xffff })
  .filter((t) => t !== ETHERTYPE_VLAN && t !== 0x88a8);
const vlan = fc.record({
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  id: fc.integer({ min: 0, max: 4095 }),
});
// Payload at least long enough that no padding is added, so decode(encode(x)) is exact.
const frameArb: fc.Arbitrary<EthernetFrame> = fc
  .record({
    destination: mac,
    source: mac,
    vlan: fc.option(vlan, { nil: undefined }),
    etherType,
    payload: fc.uint8Array({ minLength: 46, maxLength: 200 }),
  })
  .map(({ vlan: tag, payload, ...rest }) => ({
    ...rest,
    ...(tag ? { vlan: tag } : {}),
    payload: Buffer.from(payload),
  }));

describe('Ethernet II', () => {
  it('decodes an untagged header and gives the payload as a view', () => {
    const frame = hex(`
      ffffffffffff  # destination: broadcast
      020000000050  # source
      0806          # EtherType: ARP
      ${'00'.repeat(46)}
    `);
    const decoded = decodeEthernet(frame);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value.destination).toEqual(Buffer.from('ffffffffffff', 'hex'));
    expect(decoded.value.source).toEqual(Buffer.from('020000000050', 'hex'));
    expect(decoded.value.etherType).toBe(ETHERTYPE_ARP);
    expect(decoded.value.vlan).toBeUndefined();
    expect(decoded.value.payload.length).toBe(46);
    expect(decoded.value.payload.buffer).toBe(frame.buffer);
    expect(decoded.value.payload.byteOffset).toBe(frame.byteOffset + 14);
  });

  it('decodes one 802.1Q tag', () => {
    const frame = hex(`
      333300000001 020000000050
      8100          # TPID
      a064          # TCI: PCP 5, DEI 0, VID 100
      86dd          # inner EtherType: IPv6
      ${'00'.repeat(42)}
    `);
    const decoded = decodeEthernet(frame);
    expect(decoded).toMatchObject({
      ok: true,
      value: { vlan: { pcp: 5, dei: false, id: 100 }, etherType: ETHERTYPE_IPV6 },
    });
    if (decoded.ok) expect(decoded.value.payload.length).toBe(42);
  });

  it('refuses stacked tags and 802.3 length frames as unsupported', () => {
    const stacked = hex(`333300000001 020000000050 8100 0064 8100 0065 86dd ${'00'.repeat(40)}`);
    expect(decodeEthernet(stacked)).toMatchObject({ ok: false, error: { code: 'unsupported', offset: 16 } });
    const llc = hex(`0180c2000000 020000000050 0026 ${'00'.repeat(46)}`);
    expect(decodeEthernet(llc)).toMatchObject({
      ok: false,
      error: { code: 'unsupported', field: 'etherType' },
    });
  });

  it('reports short buffers for every cut of the header', () => {
    const tagged = hex(`333300000001 020000000050 8100 0064 86dd`);
    for (let len = 0; len < tagged.length; len++) {
      expect(decodeEthernet(tagged.subarray(0, len))).toMatchObject({
        ok: false,
        error: { code: 'short-buffer' },
      });
    }
  });

  it('pads to 60 bytes with zeros on encode', () => {
    const out = encodeEthernet({
      destination: Buffer.from('ffffffffffff', 'hex'),
      source: Buffer.from('020000000050', 'hex'),
      etherType: ETHERTYPE_ARP,
      payload: Buffer.from('abcd', 'hex'),
    });
    expect(out.length).toBe(60);
    expect(out.subarray(14, 16)).toEqual(Buffer.from('abcd', 'hex'));
    expect(out.subarray(16).every((b) => b === 0)).toBe(true);
  });

  it('throws RangeError on values that break the contract', () => {
    const base = {
      destination: Buffer.alloc(6),
      source: Buffer.alloc(6),
      etherType: ETHERTYPE_ARP,
      payload: Buffer.alloc(0),
    };
    expect(() => encodeEthernet({ ...base, destination: Buffer.alloc(5) })).toThrow(/ethernet.destination/);
    expect(() => encodeEthernet({ ...base, etherType: ETHERTYPE_VLAN })).toThrow(/use ethernet.vlan/);
    expect(() => encodeEthernet({ ...base, etherType: 0x05dc })).toThrow(/etherType/);
    expect(() => encodeEthernet({ ...base, vlan: { pcp: 8, dei: false, id: 1 } })).toThrow(/pcp/);
    expect(() => encodeEthernet({ ...base, vlan: { pcp: 0, dei: false, id: 4096 } })).toThrow(/vlan.id/);
  });

  it('decode(encode(x)) == x', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        expect(decodeEthernet(encodeEthernet(frame))).toEqual({ ok: true, value: frame });
      }),
    );
  });

  it('encode(decode(b)) == b for frames of at least 60 bytes', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const bytes = encodeEthernet(frame);
        const decoded = decodeEthernet(bytes);
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(encodeEthernet(decoded.value)).toEqual(bytes);
      }),
    );
  });
});
