import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ALL_MLDV2_ROUTERS_MAC,
  ALL_NODES_MAC,
  bytesToIpv6,
  formatMac,
  ipv6ToBytes,
  solicitedNodeMac,
  solicitedNodeMulticast,
} from '../src/index.js';
import { ipv6Arb } from './arbitraries.js';

const v6 = (text: string) => {
  const r = ipv6ToBytes(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('solicited-node multicast', () => {
  it('keeps the low 24 bits (RFC 4291 §2.7.1)', () => {
    expect(bytesToIpv6(solicitedNodeMulticast(v6('2001:db8:1::abcd:1234:5678')))).toBe('ff02::1:ff34:5678');
    expect(formatMac(solicitedNodeMac(v6('2001:db8:1::abcd:1234:5678')))).toBe('33:33:ff:34:56:78');
  });

  it('well-known groups map to their MACs', () => {
    expect(formatMac(ALL_NODES_MAC)).toBe('33:33:00:00:00:01');
    expect(formatMac(ALL_MLDV2_ROUTERS_MAC)).toBe('33:33:00:00:00:16');
  });

  it('addresses sharing the low 24 bits share the group', () => {
    fc.assert(
      fc.property(ipv6Arb, ipv6Arb, (a, b) => {
        const c = Buffer.from(b);
        a.copy(c, 13, 13);
        expect(solicitedNodeMulticast(a)).toEqual(solicitedNodeMulticast(c));
        expect(solicitedNodeMac(a).subarray(0, 3)).toEqual(Buffer.from('3333ff', 'hex'));
      }),
    );
  });
});
