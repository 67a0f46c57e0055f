// Fuzzes parseAddressSpec with random text and with mutations of valid specs.
// Run: pnpm exec tsx packages/ipam/fuzz/address-spec.fuzz.ts [iterations=1000000] [seed]
// Every input must give a typed Result quickly; accepted ranges must be well formed and survive
// a format -> parse round trip. Any throw, malformed result, slow case or round-trip change is a finding.
import { fuzzArgs, isMainModule, seededRandom } from '@metallb-ts/fuzz-kit';
import { formatIp, formatRange, parseAddressSpec } from '../src/index.js';

export interface FuzzFinding {
  input: string;
  problem: string;
}

export interface FuzzSummary {
  iterations: number;
  accepted: number;
  rejected: number;
  findings: FuzzFinding[];
  slowestMs: number;
}

const SEEDS = [
  '203.0.113.0/28',
  '203.0.113.5',
  '203.0.113.5/32',
  '203.0.113.10-203.0.113.20',
  '203.0.113.10 - 203.0.113.20',
  '2001:db8::/120',
  '2001:db8::1/128',
  '2001:db8::1-2001:db8::ff',
  '::/0',
  '0.0.0.0/0',
  '::ffff:1.2.3.4',
  'fe80::1%eth0',
  '255.255.255.255',
  '1:2:3:4:5:6:7:8',
  '2001:db8:1::/64',
];
const ALPHABET = '0123456789abcdefABCDEF.:/-% x\t\n\u00a0٣';

function randomText(rand: () => number): string {
  const length = Math.floor(rand() * 48);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return out;
}

function randomIp(rand: () => number): string {
  if (rand() < 0.5) return Array.from({ length: 4 }, () => Math.floor(rand() * 260)).join('.');
  const groups = Array.from({ length: 8 }, () => Math.floor(rand() * 65536).toString(16));
  const cut = Math.floor(rand() * 8);
  return rand() < 0.5
    ? groups.join(':')
    : `${groups.slice(0, cut).join(':')}::${groups.slice(cut + 1).join(':')}`;
}

function mutate(rand: () => number, text: string): string {
  let s = text;
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (s.length + 1));
    const ch = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
    switch (Math.floor(rand() * 5)) {
      case 0:
        s = s.slice(0, at) + ch + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      case 2:
        s = s.slice(0, at) + ch + s.slice(at + 1);
        break;
      case 3:
        s = s + s.slice(at);
        break;
      default:
        s = s.slice(0, at) + '/' + Math.floor(rand() * 140) + s.slice(at);
    }
  }
  return s;
}

function generate(rand: () => number): string {
  const r = rand();
  if (r < 0.25) return randomText(rand);
  if (r < 0.5) return mutate(rand, SEEDS[Math.floor(rand() * SEEDS.length)]!);
  if (r < 0.7) return `${randomIp(rand)}/${Math.floor(rand() * 135)}`;
  if (r < 0.85) return `${randomIp(rand)}${rand() < 0.5 ? ' - ' : '-'}${randomIp(rand)}`;
  return randomIp(rand);
}

function check(input: string): { accepted: boolean; problem?: string; ms: number } {
  const started = performance.now();
  let result;
  try {
    result = parseAddressSpec(input);
  } catch (e) {
    return { accepted: false, problem: `threw ${String(e)}`, ms: performance.now() - started };
  }
  const ms = performance.now() - started;
  if (!result.ok) {
    const { error } = result;
    if (
      typeof error.reason !== 'string' ||
      error.reason === '' ||
      typeof error.message !== 'string' ||
      typeof error.spec !== 'string'
    ) {
      return { accepted: false, problem: `malformed error ${JSON.stringify(error)}`, ms };
    }
    return { accepted: false, ms };
  }
  const { family, first, last } = result.value;
  const max = family === 4 ? 2n ** 32n - 1n : 2n ** 128n - 1n;
  if (first < 0n || last > max || first > last)
    return { accepted: true, problem: `bad range ${first}..${last} (IPv${family})`, ms };
  const again = parseAddressSpec(formatRange(result.value));
  if (
    !again.ok ||
    again.value.first !== first ||
    again.value.last !== last ||
    again.value.family !== family
  ) {
    return {
      accepted: true,
      problem: `round trip through "${formatRange(result.value)}" changed the range`,
      ms,
    };
  }
  const single = parseAddressSpec(formatIp({ family, value: first }));
  if (!single.ok || single.value.first !== first)
    return { accepted: true, problem: 'first address does not round-trip', ms };
  return { accepted: true, ms };
}

/** The fuzz body, shared by the CLI and the unit test. */
export function fuzzAddressSpec(
  iterations: number,
  seed: number,
  onProgress?: (done: number) => void,
): FuzzSummary {
  const rand = seededRandom(seed);
  const summary: FuzzSummary = { iterations, accepted: 0, rejected: 0, findings: [], slowestMs: 0 };
  const step = Math.max(1, Math.floor(iterations / 10));
  for (let i = 0; i < iterations; i++) {
    const input = generate(rand);
    const outcome = check(input);
    if (outcome.accepted) summary.accepted++;
    else summary.rejected++;
    if (outcome.ms > summary.slowestMs) summary.slowestMs = outcome.ms;
    // A single parse taking this long means something grows badly with input (a hang in the making).
    if (outcome.ms > 250) summary.findings.push({ input, problem: `took ${outcome.ms.toFixed(1)} ms` });
    if (outcome.problem) summary.findings.push({ input, problem: outcome.problem });
    if (summary.findings.length >= 20) break;
    if (onProgress && (i + 1) % step === 0) onProgress(i + 1);
  }
  return summary;
}

if (isMainModule(import.meta.url)) {
  const { iterations, seed } = fuzzArgs();
  console.log(`fuzzing parseAddressSpec: ${iterations} cases, seed ${seed}`);
  const started = performance.now();
  const summary = fuzzAddressSpec(iterations, seed, (done) =>
    console.log(`  ${done} cases, ${((performance.now() - started) / 1000).toFixed(1)} s`),
  );
  console.log(
    `accepted ${summary.accepted}, rejected ${summary.rejected} (typed errors), slowest case ${summary.slowestMs.toFixed(2)} ms, findings ${summary.findings.length}`,
  );
  for (const f of summary.findings) console.log(`FINDING ${JSON.stringify(f.input)}: ${f.problem}`);
  process.exit(summary.findings.length === 0 ? 0 : 1);
}
