// Fuzzes decodePacket with random bytes and mutations of valid packets, most of them re-signed so
// the checks behind the MAC are reached, and feeds every input to a live Membership as well.
// Run: pnpm exec tsx packages/membership/fuzz/packet.fuzz.ts [iterations=1000000] [seed]
// Findings: a throw (decode, encode or the state machine), an error value of unknown shape, an
// accepted packet that is not canonical (re-encoding must give back the very bytes), an unstable
// round trip, or an input slower than 50 ms every time.
import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { fuzzArgs, isMainModule, seededRandom } from '@metallb-ts/fuzz-kit';
import { MAC_LENGTH, Membership, REJECT_REASONS, decodePacket, encodePacket } from '../src/index.js';
import { packetArb } from '../tests/arbitraries.js';

export const FUZZ_KEY = Buffer.alloc(32, 0x5a);
const keys = { primary: FUZZ_KEY };
const INTERESTING = [
  0x00, 0x01, 0x02, 0x05, 0x07, 0x0a, 0x0b, 0x2d, 0x2e, 0x41, 0x61, 0x7f, 0x80, 0xfe, 0xff,
];

export interface FuzzFinding {
  readonly kind: 'throw' | 'bad-error' | 'not-canonical' | 'unstable' | 'slow';
  readonly input: string;
  readonly detail: string;
}

export interface FuzzSummary {
  inputs: number;
  accepted: number;
  rejected: Record<string, number>;
  findings: FuzzFinding[];
  slowestMicros: number;
}

export function seedPackets(count = 400): Buffer[] {
  return fc.sample(packetArb, { numRuns: count, seed: 7 }).map((p) => encodePacket(p, keys));
}

function resign(buf: Buffer): Buffer {
  if (buf.length < MAC_LENGTH) return buf;
  const body = buf.subarray(0, buf.length - MAC_LENGTH);
  return Buffer.concat([body, createHmac('sha256', FUZZ_KEY).update(body).digest()]);
}

export function mutate(seeds: readonly Buffer[], next: () => number): Buffer {
  const int = (n: number) => Math.floor(next() * n);
  const pick = () => seeds[int(seeds.length)] ?? Buffer.alloc(0);
  if (int(10) === 0) {
    const out = Buffer.alloc(int(120));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
    return next() < 0.5 ? resign(out) : out;
  }
  // Work on the body only (the MAC is recomputed afterwards most of the time).
  let body = Buffer.from(pick().subarray(0, -MAC_LENGTH));
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    const op = int(7);
    if (op === 0 && body.length > 0) {
      const at = int(body.length);
      body[at] = (body[at] as number) ^ (1 << int(8));
    } else if (op === 1 && body.length > 0) {
      body[int(body.length)] = INTERESTING[int(INTERESTING.length)] as number;
    } else if (op === 2) {
      body = body.subarray(0, int(body.length + 1));
    } else if (op === 3) {
      const other = pick().subarray(0, -MAC_LENGTH);
      body = Buffer.concat([body.subarray(0, int(body.length + 1)), other.subarray(int(other.length + 1))]);
    } else if (op === 4) {
      const extra = Buffer.alloc(1 + int(16));
      for (let i = 0; i < extra.length; i++) extra[i] = INTERESTING[int(INTERESTING.length)] as number;
      const at = int(body.length + 1);
      body = Buffer.concat([body.subarray(0, at), extra, body.subarray(at)]);
    } else if (op === 5 && body.length >= 4) {
      // Counts, lengths and incarnations live in these fields.
      const at = int(body.length - 3);
      body.writeUInt32BE([0, 1, 0xffffffff, 0x7fffffff, body.length][int(5)] as number, at);
    } else if (body.length >= 2) {
      body.writeUInt16BE([0, 1, 0xffff, body.length][int(4)] as number & 0xffff, int(body.length - 1));
    }
  }
  const whole = Buffer.concat([body, Buffer.alloc(MAC_LENGTH)]);
  return next() < 0.85 ? resign(whole) : whole;
}

/** One input: returns a finding or undefined; `accepted`/`reason` for the statistics. */
export function check(
  input: Buffer,
  member: Membership,
  now: number,
): { finding?: FuzzFinding; reason: string } {
  const found = (kind: FuzzFinding['kind'], detail: string) => ({
    finding: { kind, input: input.toString('hex'), detail },
    reason: 'finding',
  });
  let first;
  try {
    first = decodePacket(input, keys);
  } catch (e) {
    return found('throw', `decode threw ${String(e)}`);
  }
  try {
    member.receive(input, now);
  } catch (e) {
    return found('throw', `Membership.receive threw ${String(e)}`);
  }
  if (!first.ok) {
    const { reason, message } = first.error;
    if (!REJECT_REASONS.includes(reason) || typeof message !== 'string' || message === '')
      return found('bad-error', JSON.stringify(first.error));
    return { reason };
  }
  let again: Buffer;
  let second;
  try {
    again = encodePacket(first.value.packet, keys);
    second = decodePacket(again, keys);
  } catch (e) {
    return found('throw', `re-encode/decode threw ${String(e)}`);
  }
  if (!again.equals(input)) return found('not-canonical', `re-encoded as ${again.toString('hex')}`);
  if (!second.ok) return found('unstable', `re-encoded bytes rejected: ${second.error.message}`);
  if (!isDeepStrictEqual(second.value.packet, first.value.packet))
    return found('unstable', 'decode(encode(decode(b))) differs from decode(b)');
  return { reason: 'accepted' };
}

export function fuzzPackets(
  iterations: number,
  seed: number,
  options: { slowMicros?: number; onProgress?: (done: number) => void } = {},
): FuzzSummary {
  const next = seededRandom(seed);
  const seeds = seedPackets();
  const slowMicros = options.slowMicros ?? 50_000;
  const summary: FuzzSummary = { inputs: 0, accepted: 0, rejected: {}, findings: [], slowestMicros: 0 };
  // A live member keeps receiving the inputs: authenticated nonsense must never break it.
  const peers = ['node-a', 'node-b', 'node-c'];
  let member = new Membership({
    name: 'node-a',
    keys,
    peers,
    incarnation: 1,
    random: next,
    startPhase: 'member',
  });
  for (let i = 0; i < iterations; i++) {
    if (i % 10_000 === 0) {
      member = new Membership({
        name: 'node-a',
        keys,
        peers,
        incarnation: 1,
        random: next,
        startPhase: 'member',
      });
    }
    const input = mutate(seeds, next);
    const now = i;
    const started = process.hrtime.bigint();
    const result = check(input, member, now);
    if (i % 97 === 0) member.tick(now);
    const micros = Number(process.hrtime.bigint() - started) / 1000;
    summary.inputs++;
    summary.slowestMicros = Math.max(summary.slowestMicros, micros);
    if (result.reason === 'accepted') summary.accepted++;
    else summary.rejected[result.reason] = (summary.rejected[result.reason] ?? 0) + 1;
    if (micros > slowMicros && summary.findings.length < 50) {
      // One slow call can be the machine; an input slow three times in a row is a finding.
      const times = [0, 1, 2].map(() => {
        const t = process.hrtime.bigint();
        decodePacket(input, keys);
        return Number(process.hrtime.bigint() - t) / 1000;
      });
      if (Math.min(...times) > slowMicros)
        summary.findings.push({
          kind: 'slow',
          input: input.toString('hex'),
          detail: `${Math.min(...times)} µs`,
        });
    }
    if (result.finding && summary.findings.length < 50) summary.findings.push(result.finding);
    if (options.onProgress && (i + 1) % 100_000 === 0) options.onProgress(i + 1);
  }
  return summary;
}

if (isMainModule(import.meta.url)) {
  const { iterations, seed } = fuzzArgs();
  console.log(`fuzzing membership decodePacket and Membership.receive: ${iterations} inputs, seed ${seed}`);
  const started = performance.now();
  const summary = fuzzPackets(iterations, seed, {
    onProgress: (done) =>
      console.log(`  ${done} inputs, ${((performance.now() - started) / 1000).toFixed(1)} s`),
  });
  console.table([
    {
      inputs: summary.inputs,
      accepted: summary.accepted,
      ...summary.rejected,
      'slowest µs': Number(summary.slowestMicros.toFixed(1)),
    },
  ]);
  console.log(
    `${summary.findings.length} finding(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  for (const f of summary.findings) console.log(`  [${f.kind}] ${f.detail}\n    input ${f.input}`);
  process.exit(summary.findings.length > 0 ? 1 : 0);
}
