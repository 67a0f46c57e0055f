import type { VlanTag } from './ethernet.js';
import { ICMPV6_MLDV2_REPORT } from './icmpv6.js';
import { encodeIcmpv6Frame } from './icmpv6-frame.js';
import { IPV6_LENGTH } from './ip-address.js';
import { fail, needBytes, ok, requireInt, requireLength, type Result } from './result.js';
import { ALL_MLDV2_ROUTERS_IPV6, ALL_MLDV2_ROUTERS_MAC, UNSPECIFIED_IPV6 } from './solicited-node.js';

/** RFC 3810 §5.2: 2 reserved bytes and the record count after the ICMPv6 header. */
export const MLDV2_REPORT_MIN_LENGTH = 4;
/** Record type, aux data length, source count, multicast address. */
export const MLDV2_RECORD_MIN_LENGTH = 20;

/** RFC 3810 §5.2.12 record types. */
export const MLDV2_MODE_IS_INCLUDE = 1;
export const MLDV2_MODE_IS_EXCLUDE = 2;
export const MLDV2_CHANGE_TO_INCLUDE_MODE = 3;
export const MLDV2_CHANGE_TO_EXCLUDE_MODE = 4;
export const MLDV2_ALLOW_NEW_SOURCES = 5;
export const MLDV2_BLOCK_OLD_SOURCES = 6;

/**
 * Hop-by-Hop option area MLD needs (RFC 3810 §5, RFC 2711): Router Alert (type 5, length 2,
 * value 0 = MLD) then a 2-byte PadN (type 1, length 0) to fill the header to 8 bytes.
 */
export const ROUTER_ALERT_MLD_OPTIONS: Buffer = Buffer.from([0x05, 0x02, 0x00, 0x00, 0x01, 0x00]);

export interface Mldv2Record {
  readonly type: number;
  readonly multicastAddress: Buffer;
  readonly sources: readonly Buffer[];
  /** Auxiliary data, a multiple of 4 bytes; MLDv2 defines none, kept for lossless round trips. */
  readonly auxData: Buffer;
}

export interface Mldv2Report {
  readonly records: readonly Mldv2Record[];
}

/** Decodes the ICMPv6 body (after type, code, checksum) of an MLDv2 Listener Report. */
export function decodeMldv2Report(body: Buffer): Result<Mldv2Report> {
  const short = needBytes(body, 0, MLDV2_REPORT_MIN_LENGTH, 'MLDv2 report header');
  if (short) return short;
  const count = body.readUInt16BE(2);
  const records: Mldv2Record[] = [];
  let at = MLDV2_REPORT_MIN_LENGTH;
  for (let i = 0; i < count; i++) {
    const shortRecord = needBytes(body, at, MLDV2_RECORD_MIN_LENGTH, `MLDv2 record ${i} of ${count}`);
    if (shortRecord) return shortRecord;
    const auxLength = (body[at + 1] as number) * 4;
    const sourceCount = body.readUInt16BE(at + 2);
    const size = MLDV2_RECORD_MIN_LENGTH + sourceCount * IPV6_LENGTH + auxLength;
    const shortBody = needBytes(body, at, size, `MLDv2 record ${i} with ${sourceCount} sources`);
    if (shortBody) return shortBody;
    const sources: Buffer[] = [];
    for (let s = 0; s < sourceCount; s++) {
      const from = at + MLDV2_RECORD_MIN_LENGTH + s * IPV6_LENGTH;
      sources.push(Buffer.from(body.subarray(from, from + IPV6_LENGTH)));
    }
    records.push({
      type: body[at] as number,
      multicastAddress: Buffer.from(body.subarray(at + 4, at + 20)),
      sources,
      auxData: Buffer.from(body.subarray(at + size - auxLength, at + size)),
    });
    at += size;
  }
  if (at !== body.length) {
    return fail('malformed', `${body.length - at} bytes after the last of ${count} MLDv2 records`, {
      offset: at,
      field: 'recordCount',
    });
  }
  return ok({ records });
}

export function encodeMldv2Report(report: Mldv2Report): Buffer {
  requireInt(report.records.length, 0, 0xffff, 'mldv2.records.length');
  let size = MLDV2_REPORT_MIN_LENGTH;
  for (const record of report.records) {
    size += MLDV2_RECORD_MIN_LENGTH + record.sources.length * IPV6_LENGTH + record.auxData.length;
  }
  const out = Buffer.alloc(size);
  out.writeUInt16BE(report.records.length, 2);
  let at = MLDV2_REPORT_MIN_LENGTH;
  for (const record of report.records) {
    requireInt(record.type, 0, 0xff, 'mldv2 record type');
    requireInt(record.sources.length, 0, 0xffff, 'mldv2 record source count');
    if (record.auxData.length % 4 !== 0 || record.auxData.length > 255 * 4) {
      throw new RangeError(
        `mldv2 record auxData is ${record.auxData.length} bytes; must be a multiple of 4, at most 1020`,
      );
    }
    requireLength(record.multicastAddress, IPV6_LENGTH, 'mldv2 record multicastAddress');
    out[at] = record.type;
    out[at + 1] = record.auxData.length / 4;
    out.writeUInt16BE(record.sources.length, at + 2);
    record.multicastAddress.copy(out, at + 4);
    at += MLDV2_RECORD_MIN_LENGTH;
    for (const source of record.sources) {
      requireLength(source, IPV6_LENGTH, 'mldv2 record source');
      source.copy(out, at);
      at += IPV6_LENGTH;
    }
    record.auxData.copy(out, at);
    at += record.auxData.length;
  }
  return out;
}

/**
 * A whole MLDv2 Listener Report frame that joins `join` and leaves `leave` (RFC 3810 §6.1: a
 * join is a CHANGE_TO_EXCLUDE record with no sources, a leave a CHANGE_TO_INCLUDE with none).
 * Sent to ff02::16 with hop limit 1 and the Router Alert Hop-by-Hop option (RFC 3810 §5).
 * The IPv6 source should be the interface's link-local address; RFC 3810 §5.2.13 allows `::`
 * (the default) while the interface has none.
 */
export function mldv2Report(args: {
  mac: Buffer;
  source?: Buffer;
  join?: readonly Buffer[];
  leave?: readonly Buffer[];
  vlan?: VlanTag;
}): Buffer {
  const record =
    (type: number) =>
    (group: Buffer): Mldv2Record => ({
      type,
      multicastAddress: group,
      sources: [],
      auxData: Buffer.alloc(0),
    });
  const records = [
    ...(args.join ?? []).map(record(MLDV2_CHANGE_TO_EXCLUDE_MODE)),
    ...(args.leave ?? []).map(record(MLDV2_CHANGE_TO_INCLUDE_MODE)),
  ];
  return encodeIcmpv6Frame({
    ethernet: {
      destination: ALL_MLDV2_ROUTERS_MAC,
      source: args.mac,
      ...(args.vlan ? { vlan: args.vlan } : {}),
    },
    ipv6: {
      source: args.source ?? UNSPECIFIED_IPV6,
      destination: ALL_MLDV2_ROUTERS_IPV6,
      hopLimit: 1,
      hopByHopOptions: ROUTER_ALERT_MLD_OPTIONS,
    },
    icmpv6: { type: ICMPV6_MLDV2_REPORT, code: 0, body: encodeMldv2Report({ records }) },
  });
}
