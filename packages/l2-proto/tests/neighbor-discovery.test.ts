import { describe, expect, it } from '@jest/globals';
import {
  ALL_NODES_IPV6,
  ALL_NODES_MAC,
  decodeFrame,
  decodeNeighborAdvertisement,
  decodeNeighborSolicitation,
  decodeNdpOptions,
  encodeFrame,
  encodeNdpOptions,
  findLinkLayerAddress,
  neighborAdvertisement,
  neighborSolicitation,
  unsolicitedNeighborAdvertisement,
} from '../src/index.js';
import { hex } from './hex.js';
import {
  ASKER6,
  ASKER_MAC,
  DAD_NS,
  NA_TO_ASKER,
  NS_FOR_VIP,
  UNSOLICITED_NA,
  US_MAC,
  VIP6,
} from './vectors.js';

function withByte(frame: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(frame);
  copy[offset] = value;
  return copy;
}

describe('Neighbor Solicitation', () => {
  it('decodes the golden NS', () => {
    const decoded = decodeFrame(NS_FOR_VIP);
    expect(decoded).toMatchObject({
      ok: true,
      value: {
        kind: 'ndp-ns',
        ipv6: { hopLimit: 255, source: ASKER6, nextHeader: 58 },
        ns: { target: VIP6, options: [{ kind: 'source-link-layer-address', address: ASKER_MAC }] },
      },
    });
    if (decoded.ok) expect(encodeFrame(decoded.value)).toEqual(NS_FOR_VIP);
  });

  it('the NS builder produces the golden bytes', () => {
    expect(neighborSolicitation({ mac: ASKER_MAC, source: ASKER6, target: VIP6 })).toEqual(NS_FOR_VIP);
    expect(neighborSolicitation({ mac: ASKER_MAC, target: VIP6 })).toEqual(DAD_NS);
  });

  it('reports a hop limit other than 255 so the caller can drop it', () => {
    // Hop limit is byte 21 (14 Ethernet + 7); the checksum does not cover it.
    const routed = withByte(NS_FOR_VIP, 21, 64);
    expect(decodeFrame(routed)).toMatchObject({ ok: false, error: { code: 'malformed', field: 'hopLimit' } });
  });

  it('detects checksum corruption anywhere in the message or pseudo-header', () => {
    for (const offset of [22, 40, 54, 56, 60, 70, 85]) {
      const corrupt = withByte(NS_FOR_VIP, offset, (NS_FOR_VIP[offset] as number) ^ 0x01);
      expect(decodeFrame(corrupt)).toMatchObject({ ok: false, error: { code: 'bad-checksum', offset: 56 } });
    }
  });

  it('a DAD probe decodes; one from :: with a source link-layer option is malformed', () => {
    const dad = decodeFrame(DAD_NS);
    expect(dad).toMatchObject({ ok: true, value: { kind: 'ndp-ns', ns: { options: [] } } });
    if (!dad.ok || dad.value.kind !== 'ndp-ns') throw new Error('expected NS');
    const withSlla = encodeFrame({
      ...dad.value,
      ns: { ...dad.value.ns, options: [{ kind: 'source-link-layer-address', address: ASKER_MAC }] },
    });
    expect(decodeFrame(withSlla)).toMatchObject({ ok: false, error: { code: 'malformed', field: 'option' } });
    const toAllNodes = encodeFrame({
      ...dad.value,
      ipv6: { ...dad.value.ipv6, destination: ALL_NODES_IPV6 },
    });
    expect(decodeFrame(toAllNodes)).toMatchObject({
      ok: false,
      error: { code: 'malformed', field: 'destination' },
    });
  });

  it('refuses a zero-length option and an option that overruns', () => {
    const body = Buffer.from(NS_FOR_VIP.subarray(58));
    body[21] = 0;
    expect(decodeNeighborSolicitation(body)).toMatchObject({
      ok: false,
      error: { code: 'malformed', field: 'option.length', offset: 21 },
    });
    body[21] = 2;
    expect(decodeNeighborSolicitation(body)).toMatchObject({
      ok: false,
      error: { code: 'malformed', field: 'option.length' },
    });
  });

  it('every truncation of the frame is short-buffer or malformed', () => {
    for (let len = 0; len < NS_FOR_VIP.length; len++) {
      const result = decodeFrame(NS_FOR_VIP.subarray(0, len));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(['short-buffer', 'malformed']).toContain(result.error.code);
    }
  });
});

describe('Neighbor Advertisement', () => {
  it('the solicited NA builder produces the golden bytes', () => {
    const frame = neighborAdvertisement({
      ourMac: US_MAC,
      target: VIP6,
      toMac: ASKER_MAC,
      toIp: ASKER6,
      solicited: true,
      override: true,
      router: false,
    });
    expect(frame).toEqual(NA_TO_ASKER);
    expect(decodeFrame(frame)).toMatchObject({
      ok: true,
      value: { kind: 'ndp-na', na: { router: false, solicited: true, override: true, target: VIP6 } },
    });
  });

  it('the unsolicited NA builder produces the golden bytes', () => {
    expect(unsolicitedNeighborAdvertisement({ mac: US_MAC, ip: VIP6 })).toEqual(UNSOLICITED_NA);
    const decoded = decodeFrame(UNSOLICITED_NA);
    expect(decoded).toMatchObject({
      ok: true,
      value: { kind: 'ndp-na', na: { solicited: false, override: true } },
    });
    if (decoded.ok && decoded.value.kind === 'ndp-na') {
      expect(findLinkLayerAddress(decoded.value.na.options, 'target-link-layer-address')).toEqual(US_MAC);
      expect(encodeFrame(decoded.value)).toEqual(UNSOLICITED_NA);
    }
  });

  it('answers a DAD probe on all-nodes with Solicited=0 (RFC 4861 §7.2.4)', () => {
    const frame = neighborAdvertisement({
      ourMac: US_MAC,
      target: VIP6,
      toMac: ASKER_MAC,
      toIp: Buffer.alloc(16),
      solicited: true,
      override: true,
      router: false,
    });
    const decoded = decodeFrame(frame);
    expect(decoded).toMatchObject({
      ok: true,
      value: {
        kind: 'ndp-na',
        ethernet: { destination: ALL_NODES_MAC },
        ipv6: { destination: ALL_NODES_IPV6 },
        na: { solicited: false },
      },
    });
  });

  it('a multicast NA with Solicited=1 is malformed', () => {
    // Flip S on the unsolicited NA and fix up the checksum by rebuilding through the codec.
    const decoded = decodeFrame(UNSOLICITED_NA);
    if (!decoded.ok || decoded.value.kind !== 'ndp-na') throw new Error('expected NA');
    const bad = encodeFrame({ ...decoded.value, na: { ...decoded.value.na, solicited: true } });
    expect(decodeFrame(bad)).toMatchObject({ ok: false, error: { code: 'malformed', field: 'solicited' } });
  });

  it('keeps unknown options raw and in order, so re-encoding is lossless', () => {
    const options = hex(`
      0e 01 aabbccddeeff        # type 14 (Nonce), 8 bytes
      02 01 020000000001        # target link-layer address
      fd 02 ${'11'.repeat(14)}  # an experimental type, 16 bytes
      02 02 ${'22'.repeat(14)}  # type 2 but 16 bytes: not an Ethernet address, kept raw
    `);
    const decoded = decodeNdpOptions(options);
    expect(decoded).toEqual({
      ok: true,
      value: [
        { kind: 'raw', type: 14, data: Buffer.from('aabbccddeeff', 'hex') },
        { kind: 'target-link-layer-address', address: US_MAC },
        { kind: 'raw', type: 0xfd, data: Buffer.alloc(14, 0x11) },
        { kind: 'raw', type: 2, data: Buffer.alloc(14, 0x22) },
      ],
    });
    if (decoded.ok) expect(encodeNdpOptions(decoded.value)).toEqual(options);
    const body = Buffer.concat([NA_TO_ASKER.subarray(58, 78), options]);
    expect(decodeNeighborAdvertisement(body)).toMatchObject({ ok: true, value: { options: { length: 4 } } });
  });

  it('refuses stray bytes after the last option', () => {
    expect(decodeNdpOptions(hex('0201020000000001 02'))).toMatchObject({
      ok: false,
      error: { code: 'malformed', offset: 8 },
    });
  });
});
