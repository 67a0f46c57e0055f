// Fuzzes buildConfig with random and mutated pool objects (arbitrary JSON where fields should be).
// Run: pnpm exec tsx packages/api/fuzz/build-config.fuzz.ts [iterations=1000000] [seed]
// buildConfig must never throw or hang, must not mutate its input, must only report well-formed
// ObjectErrors, must return pools that are valid together, L2 rules that name only those pools,
// and the same answer for the same objects in another order.
import { fuzzArgs, isMainModule, seededRandom } from '@metallb-ts/fuzz-kit';
import { buildConfig } from '../src/index.js';
import type { PoolObjects } from '../src/index.js';

export interface FuzzFinding {
  input: string;
  problem: string;
}

export interface FuzzSummary {
  iterations: number;
  poolsBuilt: number;
  errorsReported: number;
  findings: FuzzFinding[];
  slowestMs: number;
}

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const NAMES = ['a', 'b', 'c', 'pool', '__proto__', 'constructor', '', 'x'.repeat(70)];
const ADDRESSES = [
  '10.0.0.0/24',
  '10.0.0.128/25',
  '10.0.1.0-10.0.1.9',
  '10.0.1.5',
  '2001:db8::/120',
  '2001:db8::/64',
  '203.0.113.300',
  '10.0.0.9-10.0.0.1',
  'x',
  '',
  '::/0',
  '0.0.0.0/0',
  '10.0.0.0/33',
];
const LABEL_KEYS = ['zone', 'role', 'toString', 'hasOwnProperty'];

function randomJson(rand: Rand, depth = 0): unknown {
  const r = rand();
  if (r < 0.1) return null;
  if (r < 0.2) return undefined;
  if (r < 0.3) return Math.floor(rand() * 2 ** 33) - 2 ** 32;
  if (r < 0.35) return pick(rand, [NaN, Infinity, -0, 1.5]);
  if (r < 0.45) return rand() < 0.5;
  if (r < 0.65) return pick(rand, [...NAMES, ...ADDRESSES, 'In', 'Exists', 'layer2', 'bgp']);
  if (depth > 2) return 'deep';
  if (r < 0.8) return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(rand, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 4); i > 0; i--)
    out[pick(rand, ['key', 'operator', 'values', 'matchLabels', 'matchExpressions', ...LABEL_KEYS])] =
      randomJson(rand, depth + 1);
  return out;
}

function selector(rand: Rand): unknown {
  if (rand() < 0.5) return { matchLabels: { [pick(rand, LABEL_KEYS)]: pick(rand, ['x', 'y', 'edge']) } };
  const operator = pick(rand, ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Bad']);
  return {
    matchExpressions: [
      {
        key: pick(rand, LABEL_KEYS),
        operator,
        ...(rand() < 0.6 ? { values: ['x', 'edge'].slice(0, Math.floor(rand() * 3)) } : {}),
      },
    ],
  };
}

function maybeBreak(rand: Rand, value: unknown): unknown {
  return rand() < 0.08 ? randomJson(rand) : value;
}

function meta(rand: Rand): unknown {
  return maybeBreak(rand, {
    name: pick(rand, NAMES),
    namespace: 'metallb-system',
    ...(rand() < 0.3 ? { labels: { [pick(rand, LABEL_KEYS)]: pick(rand, ['x', 'y']) } } : {}),
  });
}

function addresses(rand: Rand): unknown {
  return maybeBreak(
    rand,
    Array.from({ length: Math.floor(rand() * 3) + (rand() < 0.9 ? 1 : 0) }, () =>
      maybeBreak(rand, pick(rand, ADDRESSES)),
    ),
  );
}

function generate(rand: Rand): PoolObjects {
  const addressPools = Array.from({ length: Math.floor(rand() * 3) }, () =>
    maybeBreak(rand, {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'AddressPool',
      metadata: meta(rand),
      spec: maybeBreak(rand, {
        protocol: maybeBreak(rand, pick(rand, ['layer2', 'layer2', 'bgp'])),
        addresses: addresses(rand),
        ...(rand() < 0.3 ? { autoAssign: maybeBreak(rand, rand() < 0.5) } : {}),
        ...(rand() < 0.1 ? { bgpAdvertisements: [{}] } : {}),
      }),
    }),
  );
  const ipAddressPools = Array.from({ length: Math.floor(rand() * 4) }, () =>
    maybeBreak(rand, {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: meta(rand),
      spec: maybeBreak(rand, {
        addresses: addresses(rand),
        ...(rand() < 0.3 ? { avoidBuggyIPs: maybeBreak(rand, rand() < 0.5) } : {}),
        ...(rand() < 0.3
          ? {
              serviceAllocation: maybeBreak(rand, {
                priority: maybeBreak(rand, Math.floor(rand() * 5)),
                namespaces: maybeBreak(rand, ['a']),
                namespaceSelectors: [selector(rand)],
                serviceSelectors: maybeBreak(rand, [selector(rand)]),
              }),
            }
          : {}),
      }),
    }),
  );
  const l2Advertisements = Array.from({ length: Math.floor(rand() * 3) }, () =>
    maybeBreak(rand, {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'L2Advertisement',
      metadata: meta(rand),
      spec: maybeBreak(rand, {
        ...(rand() < 0.5 ? { ipAddressPools: maybeBreak(rand, [pick(rand, NAMES)]) } : {}),
        ...(rand() < 0.3 ? { ipAddressPoolSelectors: maybeBreak(rand, [selector(rand)]) } : {}),
        ...(rand() < 0.3 ? { nodeSelectors: maybeBreak(rand, [selector(rand)]) } : {}),
        ...(rand() < 0.3 ? { interfaces: maybeBreak(rand, ['eth0']) } : {}),
      }),
    }),
  );
  const objs = { addressPools, ipAddressPools, l2Advertisements } as unknown as PoolObjects;
  return rand() < 0.02 ? ((maybeBreak(rand, randomJson(rand)) as PoolObjects) ?? objs) : objs;
}

function describeInput(objs: unknown): string {
  try {
    return JSON.stringify(objs).slice(0, 2000);
  } catch {
    return String(objs);
  }
}

function problemWith(objs: PoolObjects, check: boolean): string | undefined {
  const snapshot = describeInput(objs);
  let out;
  try {
    out = buildConfig(objs);
  } catch (e) {
    return `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }
  if (describeInput(objs) !== snapshot) return 'input was mutated';
  for (const e of out.errors) {
    for (const k of ['kind', 'namespace', 'name', 'field', 'reason', 'message'] as const) {
      if (typeof e[k] !== 'string') return `error field ${k} is not a string: ${describeInput(e)}`;
    }
    if (!e.message.startsWith(`${e.kind} ${e.namespace}/${e.name}: ${e.field}`))
      return `error message does not name the object and field: ${e.message}`;
    if (e.reason === '') return `empty reason: ${e.message}`;
  }
  const names = new Set(out.config.pools.map((p) => p.name));
  if (names.size !== out.config.pools.length) return 'duplicate pool names in config';
  // The accepted pools must be valid together: no two ranges overlap.
  const all = out.config.pools
    .flatMap((p) => p.ranges.map((r) => ({ ...r, pool: p.name })))
    .sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.family === all[i - 1]!.family && all[i]!.first <= all[i - 1]!.last)
      return `pools ${all[i - 1]!.pool} and ${all[i]!.pool} overlap in the config`;
  }
  for (const rule of out.config.l2)
    for (const p of rule.pools)
      if (!names.has(p)) return `L2 rule ${rule.source.name} names unknown pool ${p}`;
  if (check && isRecordOfLists(objs)) {
    const reversed = {
      addressPools: [...objs.addressPools].reverse(),
      ipAddressPools: [...objs.ipAddressPools].reverse(),
      l2Advertisements: [...objs.l2Advertisements].reverse(),
    };
    const again = buildConfig(reversed);
    const key = (c: typeof out) =>
      describeInput({
        pools: c.config.pools.map((p) => [p.name, p.ranges.map((r) => `${r.first}-${r.last}`)]),
        l2: c.config.l2,
        errors: c.errors.map((e) => e.message),
      });
    if (key(again) !== key(out)) return 'result depends on input order';
  }
  return undefined;
}

function isRecordOfLists(objs: unknown): objs is PoolObjects {
  if (typeof objs !== 'object' || objs === null) return false;
  const o = objs as Record<string, unknown>;
  return (
    Array.isArray(o.addressPools) && Array.isArray(o.ipAddressPools) && Array.isArray(o.l2Advertisements)
  );
}

/** The fuzz body, shared by the CLI and the unit test. */
export function fuzzBuildConfig(
  iterations: number,
  seed: number,
  onProgress?: (done: number) => void,
): FuzzSummary {
  const rand = seededRandom(seed);
  const summary: FuzzSummary = { iterations, poolsBuilt: 0, errorsReported: 0, findings: [], slowestMs: 0 };
  const step = Math.max(1, Math.floor(iterations / 10));
  for (let i = 0; i < iterations; i++) {
    const objs = generate(rand);
    const started = performance.now();
    const problem = problemWith(objs, i % 8 === 0);
    const ms = performance.now() - started;
    if (ms > summary.slowestMs) summary.slowestMs = ms;
    if (ms > 500) summary.findings.push({ input: describeInput(objs), problem: `took ${ms.toFixed(1)} ms` });
    if (problem) summary.findings.push({ input: describeInput(objs), problem });
    else {
      try {
        const out = buildConfig(objs);
        summary.poolsBuilt += out.config.pools.length;
        summary.errorsReported += out.errors.length;
      } catch {
        /* already reported by problemWith */
      }
    }
    if (summary.findings.length >= 10) break;
    if (onProgress && (i + 1) % step === 0) onProgress(i + 1);
  }
  return summary;
}

if (isMainModule(import.meta.url)) {
  const { iterations, seed } = fuzzArgs();
  console.log(`fuzzing buildConfig: ${iterations} cases, seed ${seed}`);
  const started = performance.now();
  const summary = fuzzBuildConfig(iterations, seed, (done) =>
    console.log(`  ${done} cases, ${((performance.now() - started) / 1000).toFixed(1)} s`),
  );
  console.log(
    `pools built ${summary.poolsBuilt}, object errors reported ${summary.errorsReported}, slowest case ${summary.slowestMs.toFixed(2)} ms, findings ${summary.findings.length}`,
  );
  for (const f of summary.findings) console.log(`FINDING ${f.problem}\n  input: ${f.input}`);
  process.exit(summary.findings.length === 0 ? 0 : 1);
}
