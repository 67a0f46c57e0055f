import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { seededRandom } from '@metallb-ts/fuzz-kit';
import {
  decodeArp,
  decodeEthernet,
  decodeFrame,
  decodeIpv6,
  decodeMldv2Report,
  decodeNdpOptions,
  decodeNeighborAdvertisement,
  decodeNeighborSolicitation,
  encodeArp,
  encodeEthernet,
  encodeFrame,
  encodeIpv6,
  encodeMldv2Report,
  encodeNdpOptions,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  icmpv6Checksum,
  type DecodedFrame,
  type EthernetFrame,
  type Result,
} from '../src/index.js';
import { anyFrameArb, comparable } from '../tests/arbitraries.js';
import { DAD_NS, MLDV2_JOIN, NA_TO_ASKER, NS_FOR_VIP, UNSOLICITED_NA } from '../tests/vectors.js';

/**
 * The fuzz body shared by the driver (fuzz/decoders.fuzz.ts, 1M inputs per decoder) and the unit
 * suite (a few thousand). For every decoder: random and mutated inputs must never throw, and
 * anything that decodes must re-encode without throwing to bytes that decode to the same value
 * and re-encode to the same bytes (decode -> encode -> decode stability).
 */

export interface FuzzTarget {
  readonly name: string;
  readonly decode: (buf: Buffer) => Result<unknown>;
  readonly encode: (value: never) => Buffer;
  /** Projection under which decode(encode(v)) must equal v (padding-insensitive where needed). */
  readonly view?: (value: never) => unknown;
  /** Valid inputs the mutator starts from. */
  readonly seeds: (frames: Buffer[]) => Buffer[];
  /** Frame-level targets get their ICMPv6 checksum repaired after mutation half the time. */
  readonly repairChecksum?: boolean;
}

/** Encoding pads frames to 60 bytes with zeros, so payloads compare without trailing zeros. */
function withoutPadding(payload: Buffer | undefined): Buffer | undefined {
  if (!payload) return payload;
  let end = payload.length;
  while (end > 0 && payload[end - 1] === 0) end--;
  return Buffer.from(payload.subarray(0, end));
}

function layer(frames: Buffer[], pick: (frame: Buffer) => Buffer | undefined): Buffer[] {
  const out: Buffer[] = [];
  for (const frame of frames) {
    const bytes = pick(frame);
    if (bytes) out.push(Buffer.from(bytes));
  }
  return out;
}

function icmpBody(frame: Buffer, type: number): Buffer | undefined {
  const decoded = decodeFrame(frame);
  if (!decoded.ok || !('ipv6' in decoded.value)) return undefined;
  const icmp = decoded.value.ipv6.payload;
  return icmp[0] === type ? icmp.subarray(4) : undefined;
}

export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'frame',
    decode: decodeFrame,
    encode: encodeFrame as (v: never) => Buffer,
    view: ((v: DecodedFrame) => {
      const c = comparable(v) as { ethernet: EthernetFrame };
      return { ...c, ethernet: { ...c.ethernet, payload: withoutPadding(c.ethernet.payload) } };
    }) as (v: never) => unknown,
    seeds: (frames) => frames,
    repairChecksum: true,
  },
  {
    name: 'ethernet',
    decode: decodeEthernet,
    encode: encodeEthernet as (v: never) => Buffer,
    view: ((v: EthernetFrame) => ({ ...v, payload: withoutPadding(v.payload) })) as (v: never) => unknown,
    seeds: (frames) => frames,
  },
  {
    name: 'arp',
    decode: decodeArp,
    encode: encodeArp as (v: never) => Buffer,
    seeds: (f) =>
      layer(f, (b) => {
        const e = decodeEthernet(b);
        return e.ok && e.value.etherType === 0x0806 ? e.value.payload.subarray(0, 28) : undefined;
      }),
  },
  {
    name: 'ipv6',
    decode: decodeIpv6,
    encode: encodeIpv6 as (v: never) => Buffer,
    seeds: (f) =>
      layer(f, (b) => {
        const e = decodeEthernet(b);
        return e.ok && e.value.etherType === 0x86dd ? e.value.payload : undefined;
      }),
  },
  {
    name: 'ndp-options',
    decode: decodeNdpOptions,
    encode: encodeNdpOptions as (v: never) => Buffer,
    seeds: (f) => [
      ...layer(f, (b) => icmpBody(b, 135)?.subarray(20)),
      ...layer(f, (b) => icmpBody(b, 136)?.subarray(20)),
    ],
  },
  {
    name: 'neighbor-solicitation',
    decode: decodeNeighborSolicitation,
    encode: encodeNeighborSolicitation as (v: never) => Buffer,
    seeds: (f) => layer(f, (b) => icmpBody(b, 135)),
  },
  {
    name: 'neighbor-advertisement',
    decode: decodeNeighborAdvertisement,
    encode: encodeNeighborAdvertisement as (v: never) => Buffer,
    seeds: (f) => layer(f, (b) => icmpBody(b, 136)),
  },
  {
    name: 'mldv2-report',
    decode: decodeMldv2Report,
    encode: encodeMldv2Report as (v: never) => Buffer,
    seeds: (f) => layer(f, (b) => icmpBody(b, 143)),
  },
];

const INTERESTING = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x3a, 0x7f, 0x80, 0x81, 0x86, 0x87, 0x88, 0x8f, 0xdd, 0xfe, 0xff,
];

/** Re-computes the ICMPv6 checksum of an Ethernet/IPv6/ICMPv6 frame in place, if it parses that far. */
function repairChecksum(frame: Buffer): void {
  const eth = decodeEthernet(frame);
  if (!eth.ok || eth.value.etherType !== 0x86dd) return;
  const ip = decodeIpv6(eth.value.payload);
  if (!ip.ok || ip.value.nextHeader !== 58 || ip.value.payload.length < 4) return;
  const icmp = ip.value.payload;
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(icmpv6Checksum(icmp, ip.value.source, ip.value.destination), 2);
}

export function mutate(seeds: readonly Buffer[], next: () => number, repair: boolean): Buffer {
  const int = (n: number) => Math.floor(next() * n);
  const pickSeed = () => seeds[int(seeds.length)] ?? Buffer.alloc(0);
  const strategy = int(8);
  let out: Buffer;
  if (strategy === 0 || seeds.length === 0) {
    out = Buffer.alloc(int(160));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
  } else {
    out = Buffer.from(pickSeed());
    const rounds = 1 + int(3);
    for (let r = 0; r < rounds; r++) {
      const op = strategy === 1 ? int(6) : strategy - 2;
      if (op === 0 && out.length > 0) {
        const at = int(out.length);
        out[at] = (out[at] as number) ^ (1 << int(8));
      } else if (op === 1 && out.length > 0) {
        out[int(out.length)] = INTERESTING[int(INTERESTING.length)] as number;
      } else if (op === 2) {
        out = out.subarray(0, int(out.length + 1));
      } else if (op === 3) {
        const other = pickSeed();
        out = Buffer.concat([out.subarray(0, int(out.length + 1)), other.subarray(int(other.length + 1))]);
      } else if (op === 4) {
        const extra = Buffer.alloc(1 + int(24));
        for (let i = 0; i < extra.length; i++) extra[i] = int(256);
        out = Buffer.concat([out, extra]);
      } else if (out.length >= 2) {
        // Overwrite a 16-bit field with a boundary value: lengths and counts live in such fields.
        const at = int(out.length - 1);
        out.writeUInt16BE([0, 1, 0x7fff, 0xffff, out.length, out.length - at][int(6)] as number & 0xffff, at);
      }
    }
  }
  if (repair && next() < 0.5) repairChecksum(out);
  return out;
}

export interface Finding {
  readonly target: string;
  readonly kind: 'throw' | 'unstable' | 'slow';
  readonly input: string;
  readonly detail: string;
}

export interface TargetStats {
  target: string;
  inputs: number;
  decoded: number;
  errors: Record<string, number>;
  slowestMicros: number;
  slowestInput: string;
}

/** One input through one target: returns a finding or undefined. Exported for regression cases. */
export function check(
  target: FuzzTarget,
  input: Buffer,
): { finding?: Finding; decoded: boolean; code?: string } {
  const found = (kind: Finding['kind'], detail: string) => ({
    finding: { target: target.name, kind, input: input.toString('hex'), detail },
    decoded: false,
  });
  let first: Result<unknown>;
  try {
    first = target.decode(input);
  } catch (e) {
    return found('throw', `decode threw ${String(e)}`);
  }
  if (!first.ok) {
    const { code, message } = first.error;
    if (
      !['short-buffer', 'bad-checksum', 'unsupported', 'malformed'].includes(code) ||
      typeof message !== 'string'
    ) {
      return found('unstable', `error value has an unknown shape: ${JSON.stringify(first.error)}`);
    }
    return { decoded: false, code };
  }
  let again: Buffer;
  let second: Result<unknown>;
  try {
    again = target.encode(first.value as never);
    second = target.decode(again);
  } catch (e) {
    return found('throw', `re-encode/decode threw ${String(e)}`);
  }
  if (!second.ok)
    return found('unstable', `re-encoded bytes do not decode: ${second.error.code} ${second.error.message}`);
  const view = target.view ?? ((v: unknown) => v);
  if (!isDeepStrictEqual(view(first.value as never), view(second.value as never))) {
    return found('unstable', 'decode(encode(decode(b))) differs from decode(b)');
  }
  let third: Buffer;
  try {
    third = target.encode(second.value as never);
  } catch (e) {
    return found('throw', `second re-encode threw ${String(e)}`);
  }
  if (!third.equals(again)) return found('unstable', 'encode is not a fixpoint after one round trip');
  return { decoded: true };
}

export function buildSeedFrames(): Buffer[] {
  const sampled = fc.sample(anyFrameArb, { numRuns: 300, seed: 42 }).map((f) => encodeFrame(f));
  return [NS_FOR_VIP, NA_TO_ASKER, UNSOLICITED_NA, MLDV2_JOIN, DAD_NS, ...sampled];
}

export function runFuzz(options: {
  iterationsPerTarget: number;
  seed?: number;
  slowMicros?: number;
  targets?: readonly FuzzTarget[];
  onProgress?: (target: string, done: number) => void;
}): { stats: TargetStats[]; findings: Finding[] } {
  const frames = buildSeedFrames();
  const findings: Finding[] = [];
  const stats: TargetStats[] = [];
  const slowMicros = options.slowMicros ?? 50_000;
  for (const target of options.targets ?? TARGETS) {
    const next = seededRandom((options.seed ?? 1) ^ hash(target.name));
    const seeds = target.seeds(frames);
    const s: TargetStats = {
      target: target.name,
      inputs: 0,
      decoded: 0,
      errors: {},
      slowestMicros: 0,
      slowestInput: '',
    };
    for (let i = 0; i < options.iterationsPerTarget; i++) {
      const input = mutate(seeds, next, target.repairChecksum ?? false);
      const started = process.hrtime.bigint();
      const result = check(target, input);
      const micros = Number(process.hrtime.bigint() - started) / 1000;
      s.inputs++;
      if (micros > s.slowestMicros) {
        s.slowestMicros = micros;
        s.slowestInput = input.toString('hex');
      }
      if (micros > slowMicros && findings.length < 50) {
        // A GC pause or a busy machine can stall any one call: only an input that is slow every
        // time is a finding.
        const retimed = Math.min(...[0, 1, 2].map(() => timeMicros(() => check(target, input))));
        if (retimed > slowMicros) {
          findings.push({
            target: target.name,
            kind: 'slow',
            input: input.toString('hex'),
            detail: `${retimed.toFixed(0)} µs`,
          });
        }
      }
      if (result.decoded) s.decoded++;
      if (result.code) s.errors[result.code] = (s.errors[result.code] ?? 0) + 1;
      if (result.finding && findings.length < 50) findings.push(result.finding);
      if (options.onProgress && (i + 1) % 100_000 === 0) options.onProgress(target.name, i + 1);
    }
    stats.push(s);
  }
  return { stats, findings };
}

function timeMicros(run: () => unknown): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1000;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
