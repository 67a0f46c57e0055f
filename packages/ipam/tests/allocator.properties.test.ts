import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Allocator, buildPoolSet, canonicalIp, parseIp, sharingConflict } from '../src/index.js';
import type { Family, Pool, PoolSpec, ServiceRequest, SharingRequest } from '../src/index.js';

// Small address spaces so that random operations collide, share and exhaust often.
const v4 = (i: number): string => `10.0.${i >> 8}.${i & 255}`;
const v6 = (i: number): string => `2001:db8::${i.toString(16)}`;

const poolSpecs: fc.Arbitrary<PoolSpec[]> = fc
  .array(
    fc.record({
      v4: fc.option(fc.tuple(fc.integer({ min: 250, max: 262 }), fc.integer({ min: 0, max: 4 })), {
        nil: undefined,
      }),
      v6: fc.option(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 4 })), {
        nil: undefined,
      }),
      autoAssign: fc.boolean(),
      avoidBuggyIPs: fc.boolean(),
      priority: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((raw) =>
    raw.map((p, i) => {
      const addresses: string[] = [];
      if (p.v4) addresses.push(`${v4(p.v4[0])}-${v4(p.v4[0] + p.v4[1])}`);
      if (p.v6) addresses.push(`${v6(p.v6[0])}-${v6(p.v6[0] + p.v6[1])}`);
      if (addresses.length === 0) addresses.push(v4(300 + i));
      const spec: PoolSpec = {
        name: `p${i}`,
        addresses,
        autoAssign: p.autoAssign,
        avoidBuggyIPs: p.avoidBuggyIPs,
      };
      if (p.priority !== undefined) spec.serviceAllocation = { priority: p.priority };
      return spec;
    }),
  );

const sharing: fc.Arbitrary<SharingRequest | undefined> = fc.option(
  fc.record({
    key: fc.constantFrom('', 'k1', 'k2'),
    backend: fc.constantFrom('Cluster', 'Local:app=a'),
    ports: fc.uniqueArray(
      fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(80, 443) }),
      {
        maxLength: 2,
        selector: (p) => `${p.protocol}/${p.port}`,
      },
    ),
  }),
  { nil: undefined },
);

const familyChoice = fc.constantFrom<{ families: Family[]; familyPolicy: ServiceRequest['familyPolicy'] }>(
  { families: [4], familyPolicy: 'SingleStack' },
  { families: [6], familyPolicy: 'SingleStack' },
  { families: [4, 6], familyPolicy: 'PreferDualStack' },
  { families: [6, 4], familyPolicy: 'RequireDualStack' },
);

const ipText = fc.oneof(fc.integer({ min: 248, max: 266 }).map(v4), fc.integer({ min: 0, max: 16 }).map(v6));

const serviceRequest: fc.Arbitrary<ServiceRequest> = fc
  .record({
    fam: familyChoice,
    sharing,
    pool: fc.option(fc.constantFrom('p0', 'p1', 'p9'), { nil: undefined }),
    requested: fc.option(ipText, { nil: undefined }),
  })
  .map(({ fam, sharing, pool, requested }) => {
    const req: ServiceRequest = {
      namespace: 'ns',
      labels: {},
      requestedIPs: requested ? [requested] : [],
      ...fam,
    };
    if (sharing) req.sharing = sharing;
    if (pool) req.pool = pool;
    return req;
  });

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
type Op =
  | { op: 'allocate'; key: string; req: ServiceRequest }
  | { op: 'assign'; key: string; ips: string[]; req: ServiceRequest }
  | { op: 'release'; key: string }
  | { op: 'setPools'; specs: PoolSpec[] };
const operation: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('allocate' as const), key, req: serviceRequest }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('assign' as const),
      key,
      ips: fc.array(ipText, { minLength: 1, maxLength: 2 }),
      req: serviceRequest,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('setPools' as const), specs: poolSpecs }) },
);

function build(specs: PoolSpec[]): Pool[] {
  return buildPoolSet(specs).pools;
}

function inPool(ip: string, pool: Pool): boolean {
  const parsed = parseIp(ip);
  if (!parsed.ok) return false;
  return pool.ranges.some(
    (r) => r.family === parsed.value.family && r.first <= parsed.value.value && parsed.value.value <= r.last,
  );
}

/** Checks every invariant visible through the public API. */
function checkInvariants(
  allocator: Allocator,
  pools: Pool[],
  sharingOf: Map<string, SharingRequest | undefined>,
  keys: string[],
): void {
  const holders = new Map<string, string[]>();
  for (const k of keys) {
    const a = allocator.assignment(k);
    if (!a) continue;
    const pool = pools.find((p) => p.name === a.pool);
    expect(pool).toBeDefined();
    const families = a.ips.map((ip) => (ip.includes(':') ? 6 : 4));
    expect(new Set(families).size).toBe(families.length);
    for (const ip of a.ips) {
      expect(inPool(ip, pool!)).toBe(true);
      if (pool!.avoidBuggyIPs && !ip.includes(':')) expect(/\.(0|255)$/.test(ip)).toBe(false);
      holders.set(ip, [...(holders.get(ip) ?? []), k]);
    }
  }
  for (const [, ks] of holders) {
    for (let i = 0; i < ks.length; i++) {
      for (let j = i + 1; j < ks.length; j++)
        expect(sharingConflict(sharingOf.get(ks[i]!), sharingOf.get(ks[j]!))).toBeUndefined();
    }
  }
  for (const s of allocator.stats()) {
    const pool = pools.find((p) => p.name === s.pool)!;
    const used = [...holders.keys()].filter(
      (ip) => (ip.includes(':') ? 6 : 4) === s.family && inPool(ip, pool),
    ).length;
    expect(s.inUse).toBe(BigInt(used));
    expect(s.available).toBe(s.total - s.inUse);
  }
}

describe('Allocator properties', () => {
  it('random operation sequences keep every invariant', () => {
    fc.assert(
      fc.property(poolSpecs, fc.array(operation, { maxLength: 60 }), (initial, ops) => {
        let pools = build(initial);
        const allocator = new Allocator(pools);
        const sharingOf = new Map<string, SharingRequest | undefined>();
        const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
        for (const op of ops) {
          if (op.op === 'setPools') {
            pools = build(op.specs);
            for (const e of allocator.setPools(pools)) {
              expect(allocator.assignment(e.key)).toBeUndefined();
              sharingOf.delete(e.key);
            }
          } else if (op.op === 'release') {
            allocator.release(op.key);
            sharingOf.delete(op.key);
          } else {
            const before = JSON.stringify(op);
            const held = allocator.assignment(op.key);
            const result =
              op.op === 'allocate'
                ? allocator.allocate(op.key, op.req)
                : allocator.assign(op.key, op.ips, op.req);
            expect(JSON.stringify(op)).toBe(before);
            if (result.ok) {
              sharingOf.set(op.key, op.req.sharing);
              expect(allocator.assignment(op.key)).toEqual(result.value);
              const fams = result.value.ips.map((ip) => (ip.includes(':') ? 6 : 4));
              if (op.req.familyPolicy === 'RequireDualStack') expect(fams.sort()).toEqual([4, 6]);
              if (op.req.familyPolicy === 'SingleStack') expect(fams).toEqual([op.req.families[0]]);
              if (op.req.requestedIPs.length > 0)
                expect(result.value.ips).toEqual(
                  op.req.requestedIPs.map((ip) => (canonicalIp(ip) as { value: string }).value),
                );
              if (op.req.pool !== undefined) expect(result.value.pool).toBe(op.req.pool);
            } else {
              expect(typeof result.error.message).toBe('string');
              expect(result.error.message.length).toBeGreaterThan(0);
              // An invalid request and a failed restore change nothing; any other failed allocate leaves
              // the key without addresses (its old ones did not satisfy the request).
              if (op.op === 'assign' || result.error.reason === 'InvalidRequest')
                expect(allocator.assignment(op.key)).toEqual(held);
              else expect(allocator.assignment(op.key)).toBeUndefined();
              if (allocator.assignment(op.key) === undefined) sharingOf.delete(op.key);
            }
          }
          checkInvariants(allocator, pools, sharingOf, keys);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('free then allocate reuses the freed address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (size, pick) => {
        const allocator = new Allocator(
          build([
            { name: 'p', addresses: [`10.0.0.1-10.0.0.${size}`], autoAssign: true, avoidBuggyIPs: false },
          ]),
        );
        const req: ServiceRequest = {
          namespace: 'ns',
          labels: {},
          requestedIPs: [],
          families: [4],
          familyPolicy: 'SingleStack',
        };
        for (let i = 0; i < size; i++) expect(allocator.allocate(`s${i}`, req).ok).toBe(true);
        expect(allocator.allocate('extra', req).ok).toBe(false);
        const victim = `s${pick % size}`;
        const freed = allocator.assignment(victim)!.ips;
        allocator.release(victim);
        const again = allocator.allocate('extra', req);
        expect(again.ok && again.value.ips).toEqual(freed);
      }),
      { numRuns: 100 },
    );
  });

  it('restore is idempotent and order-independent', () => {
    fc.assert(
      fc.property(
        poolSpecs,
        fc.array(fc.record({ key, req: serviceRequest }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 1000 }),
        (specs, requests, seed) => {
          const pools = build(specs);
          const source = new Allocator(pools);
          const live = new Map<string, ServiceRequest>();
          for (const { key: k, req } of requests) {
            if (source.allocate(k, req).ok) live.set(k, req);
            else if (source.assignment(k) === undefined) live.delete(k);
          }
          const held = [...live].map(([k, req]) => ({ k, req, a: source.assignment(k)! }));
          const shuffled = [...held].sort(
            (x, y) => ((x.k.charCodeAt(0) * 7919 + seed) % 13) - ((y.k.charCodeAt(0) * 7919 + seed) % 13),
          );
          for (const order of [held, shuffled, [...held].reverse()]) {
            const restored = new Allocator(pools);
            for (let round = 0; round < 2; round++) {
              for (const { k, req, a } of order) {
                const r = restored.assign(k, a.ips, req);
                expect(r.ok ? r.value : r.error).toEqual(a);
              }
            }
            for (const { k, a } of held) expect(restored.assignment(k)).toEqual(a);
            expect(restored.stats()).toEqual(source.stats());
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sharing is symmetric', () => {
    fc.assert(
      fc.property(sharing, sharing, (a, b) => {
        expect(sharingConflict(a, b) === undefined).toBe(sharingConflict(b, a) === undefined);
        const pools = build([{ name: 'p', addresses: ['10.0.0.1'], autoAssign: true, avoidBuggyIPs: false }]);
        const req = (s: SharingRequest | undefined): ServiceRequest => ({
          namespace: 'n',
          labels: {},
          requestedIPs: [],
          families: [4],
          familyPolicy: 'SingleStack',
          ...(s ? { sharing: s } : {}),
        });
        const one = new Allocator(pools);
        one.assign('x', ['10.0.0.1'], req(a));
        const other = new Allocator(pools);
        other.assign('y', ['10.0.0.1'], req(b));
        expect(one.assign('y', ['10.0.0.1'], req(b)).ok).toBe(other.assign('x', ['10.0.0.1'], req(a)).ok);
      }),
      { numRuns: 300 },
    );
  });
});
