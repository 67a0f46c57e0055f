// Allocator benchmark: allocate, restore and free N services on IPv4 /16 and /8 and IPv6 /64
// pools, next to a baseline that scans the pool for the first free address (MetalLB's approach).
// Run: pnpm exec tsx --expose-gc packages/ipam/bench/allocator.bench.ts [maxN=100000]
import { Allocator, buildPoolSet, formatIp, parseAddressSpec } from '../src/index.js';
import type { AddressRange, Family, ServiceRequest } from '../src/index.js';

const maxN = Number(process.argv[2] ?? 100_000);
const sizes = [1_000, 10_000, 100_000].filter((n) => n <= maxN);
const pools: { label: string; cidr: string; family: Family }[] = [
  { label: 'IPv4 /16', cidr: '10.20.0.0/16', family: 4 },
  { label: 'IPv4 /8', cidr: '10.0.0.0/8', family: 4 },
  { label: 'IPv6 /64', cidr: '2001:db8:1::/64', family: 6 },
];
const gc = (globalThis as { gc?: () => void }).gc;

function heapMB(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The baseline: walk the pool from its first address until an address nobody holds turns up.
 * Keyed by the numeric address, so only the walk is measured, not text formatting; the string is
 * made once, for the address handed out, as any allocator must.
 */
class ScanningAllocator {
  private readonly used = new Map<bigint, string>();
  constructor(private readonly range: AddressRange) {}
  allocate(key: string): string | undefined {
    for (let v = this.range.first; v <= this.range.last; v++) {
      if (!this.used.has(v)) {
        this.used.set(v, key);
        return formatIp({ family: this.range.family, value: v });
      }
    }
    return undefined;
  }
  /** Marks the first `count` addresses used without scanning, to measure the cost at that occupancy. */
  prefill(count: number): void {
    for (let i = 0; i < count; i++) this.used.set(this.range.first + BigInt(i), `pre-${i}`);
  }
}

interface Row {
  pool: string;
  N: string;
  'alloc total ms': string;
  'alloc µs/op': string;
  'restore µs/op': string;
  'free µs/op': string;
  'heap MB': string;
  'scan baseline µs/op': string;
  'scan total ms': string;
  speedup: string;
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const rows: Row[] = [];
const calibration: string[] = [];
const perOpAt: Record<string, Record<number, number>> = {};

for (const p of pools) {
  const range = parseAddressSpec(p.cidr);
  if (!range.ok) throw new Error(range.error.message);
  const capacity = range.value.last - range.value.first + 1n;
  const { pools: poolSet } = buildPoolSet([
    { name: 'bench', addresses: [p.cidr], autoAssign: true, avoidBuggyIPs: false },
  ]);
  const req: ServiceRequest = {
    namespace: 'bench',
    labels: {},
    requestedIPs: [],
    families: [p.family],
    familyPolicy: 'SingleStack',
  };
  perOpAt[p.label] = {};
  for (const wanted of sizes) {
    // A /16 cannot hold 100k services: fill it completely instead and say so.
    const n = BigInt(wanted) > capacity ? Number(capacity) : wanted;
    const label = n === wanted ? String(n) : `${n} (full; ${wanted} does not fit)`;
    const keys = Array.from({ length: n }, (_, i) => `bench/svc-${i}`);
    const heapBefore = heapMB();
    const allocator = new Allocator(poolSet);
    let t = performance.now();
    for (const key of keys) {
      const r = allocator.allocate(key, req);
      if (!r.ok) throw new Error(r.error.message);
    }
    const allocMs = performance.now() - t;
    const heapAfter = heapMB();

    const held = keys.map((key) => [key, allocator.assignment(key)!.ips] as const);
    const restored = new Allocator(poolSet);
    t = performance.now();
    for (const [key, ips] of shuffled([...held], n)) {
      const r = restored.assign(key, ips, req);
      if (!r.ok) throw new Error(r.error.message);
    }
    const restoreMs = performance.now() - t;

    t = performance.now();
    for (const key of keys) allocator.release(key);
    const freeMs = performance.now() - t;

    // Baseline: a full run up to 10k; above, the cost of the last allocations up to occupancy N
    // is sampled and the total estimated as N * (sampled cost) / 2, since the scan grows linearly
    // with occupancy. At 10k both are done, so the table shows how good the estimate is.
    let scanPerOp: number;
    let scanTotal: number;
    let scanNote: string;
    const estimate = (): number => {
      const sample = n >= 50_000 ? 50 : 200;
      const scan = new ScanningAllocator(range.value);
      scan.prefill(n - sample);
      const t0 = performance.now();
      for (let i = 0; i < sample; i++) scan.allocate(`s-${i}`);
      const lastOpsUs = ((performance.now() - t0) * 1000) / sample;
      return ((lastOpsUs / 2) * n) / 1000;
    };
    if (n <= 10_000) {
      const scan = new ScanningAllocator(range.value);
      t = performance.now();
      for (const key of keys) scan.allocate(key);
      scanTotal = performance.now() - t;
      scanPerOp = (scanTotal * 1000) / n;
      scanNote = '';
      if (n === 10_000) {
        const estimated = estimate();
        calibration.push(
          `${p.label} at 10k: scan measured ${fmt(scanTotal, 0)} ms, estimated ${fmt(estimated, 0)} ms (${fmt((estimated / scanTotal) * 100, 0)}% of measured)`,
        );
      }
    } else {
      scanTotal = estimate();
      scanPerOp = (scanTotal * 1000) / n;
      scanNote = ' (est.)';
    }
    const oursPerOp = (allocMs * 1000) / n;
    perOpAt[p.label]![wanted] = oursPerOp;
    rows.push({
      pool: p.label,
      N: label,
      'alloc total ms': fmt(allocMs, 1),
      'alloc µs/op': fmt(oursPerOp),
      'restore µs/op': fmt((restoreMs * 1000) / n),
      'free µs/op': fmt((freeMs * 1000) / n),
      'heap MB': gc ? fmt(heapAfter - heapBefore, 1) : `${fmt(heapAfter - heapBefore, 1)} (no gc)`,
      'scan baseline µs/op': fmt(scanPerOp) + scanNote,
      'scan total ms': fmt(scanTotal, 0) + scanNote,
      speedup: `${fmt(scanTotal / allocMs, 1)}x${scanNote}`,
    });
  }
}

console.table(rows);
const notes: string[] = [];
for (const [label, byN] of Object.entries(perOpAt)) {
  const small = byN[1_000];
  const large = byN[100_000] ?? byN[10_000];
  if (small && large)
    notes.push(`${label}: per-op at the largest N is ${fmt(large / small)}x the per-op at 1k`);
}
console.log([...notes, ...calibration].join('\n'));
console.log(
  'scan baseline: measured in full up to N=10k; at larger N, the last 50 allocations up to occupancy N are timed and the total estimated as N x (that cost)/2 (est.), since a scan costs O(occupancy).',
);
