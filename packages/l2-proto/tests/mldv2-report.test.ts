import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ROUTER_ALERT_MLD_OPTIONS,
  decodeFrame,
  decodeMldv2Report,
  encodeFrame,
  encodeMldv2Report,
  ipv6ToBytes,
  mldv2Report,
  solicitedNodeMulticast,
} from '../src/index.js';
import { mldv2ReportArb } from './arbitraries.js';
import { MLDV2_JOIN, US_MAC, VIP6 } from './vectors.js';

const linkLocal = (() => {
  const r = ipv6ToBytes('fe80::1');
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
})();

describe('MLDv2 Listener Report', () => {
  it('the join builder produces the golden bytes', () => {
    expect(mldv2Report({ mac: US_MAC, source: linkLocal, join: [solicitedNodeMulticast(VIP6)] })).toEqual(
      MLDV2_JOIN,
    );
  });

  it('decodes the golden report with its Router Alert and hop limit 1', () => {
    const decoded = decodeFrame(MLDV2_JOIN);
    expect(decoded).toMatchObject({
      ok: true,
      value: {
        kind: 'mldv2-report',
        ipv6: { hopLimit: 1, nextHeader: 58, hopByHopOptions: ROUTER_ALERT_MLD_OPTIONS },
        report: {
          records: [
            {
              type: 4,
              multicastAddress: solicitedNodeMulticast(VIP6),
              sources: [],
              auxData: Buffer.alloc(0),
            },
          ],
        },
      },
    });
    if (decoded.ok) expect(encodeFrame(decoded.value)).toEqual(MLDV2_JOIN);
  });

  it('a leave is CHANGE_TO_INCLUDE with no sources; the default source is ::', () => {
    const decoded = decodeFrame(
      mldv2Report({ mac: US_MAC, join: [], leave: [solicitedNodeMulticast(VIP6)] }),
    );
    expect(decoded).toMatchObject({
      ok: true,
      value: { ipv6: { source: Buffer.alloc(16) }, report: { records: [{ type: 3 }] } },
    });
  });

  it('refuses a record count that overruns or underruns the message', () => {
    const body = MLDV2_JOIN.subarray(66);
    const more = Buffer.from(body);
    more.writeUInt16BE(2, 2);
    expect(decodeMldv2Report(more)).toMatchObject({ ok: false, error: { code: 'short-buffer', offset: 24 } });
    const fewer = Buffer.from(body);
    fewer.writeUInt16BE(0, 2);
    expect(decodeMldv2Report(fewer)).toMatchObject({ ok: false, error: { code: 'malformed', offset: 4 } });
    const manySources = Buffer.from(body);
    manySources.writeUInt16BE(0xffff, 6);
    expect(decodeMldv2Report(manySources)).toMatchObject({ ok: false, error: { code: 'short-buffer' } });
  });

  it('decode(encode(x)) == x and encode(decode(b)) == b', () => {
    fc.assert(
      fc.property(mldv2ReportArb, (report) => {
        const bytes = encodeMldv2Report(report);
        const decoded = decodeMldv2Report(bytes);
        expect(decoded).toEqual({ ok: true, value: report });
        if (decoded.ok) expect(encodeMldv2Report(decoded.value)).toEqual(bytes);
      }),
    );
  });
});
