import { describe, expect, it } from '@jest/globals';
import { Allocator, buildPoolSet } from '../src/index.js';
import type { AllocationErrorReason, PoolSpec, ServiceRequest } from '../src/index.js';

// Each table runs its steps in order on ONE allocator; state is checked after every step.

type Want = { ips: string[]; pool: string } | { error: AllocationErrorReason; message?: string };
type Step = { name: string; holds?: Record<string, string[] | undefined>; inUse?: Record<string, number> } & (
  | { setPools: PoolSpec[]; evicted?: { key: string; reason: string }[] }
  | { allocate: string; req?: Partial<ServiceRequest>; want: Want }
  | { assign: string; ips: string[]; req?: Partial<ServiceRequest>; want: Want }
  | { release: string }
);

const pool = (name: string, addresses: string[], extra: Partial<PoolSpec> = {}): PoolSpec => ({
  name,
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
  ...extra,
});

const request = (extra: Partial<ServiceRequest> = {}): ServiceRequest => ({
  namespace: 'default',
  labels: {},
  requestedIPs: [],
  families: [4],
  familyPolicy: 'SingleStack',
  ...extra,
});

const share = (key: string, ports: string[], backend = 'Cluster'): ServiceRequest['sharing'] => ({
  key,
  backend,
  ports: ports.map((p) => {
    const [protocol, port] = p.split('/');
    return { protocol: protocol!, port: Number(port) };
  }),
});

function runTable(steps: Step[]): void {
  const allocator = new Allocator();
  for (const step of steps) {
    if ('setPools' in step) {
      const { pools, errors } = buildPoolSet(step.setPools);
      expect(errors).toEqual([]);
      const evicted = allocator.setPools(pools);
      expect(evicted.map((e) => ({ key: e.key, reason: e.reason }))).toEqual(step.evicted ?? []);
    } else if ('release' in step) {
      allocator.release(step.release);
      expect(allocator.assignment(step.release)).toBeUndefined();
    } else {
      const req = request(step.req);
      const before = structuredClone(req);
      const key = 'allocate' in step ? step.allocate : step.assign;
      const result =
        'allocate' in step ? allocator.allocate(key, req) : allocator.assign(key, [...step.ips], req);
      expect(req).toEqual(before);
      if ('error' in step.want) {
        expect(result.ok ? result.value : result.error.reason).toBe(step.want.error);
        if (step.want.message !== undefined && !result.ok)
          expect(result.error.message).toBe(step.want.message);
      } else {
        expect(result.ok ? result.value : result.error).toEqual(step.want);
        expect(allocator.assignment(key)).toEqual(step.want);
      }
    }
    for (const [key, ips] of Object.entries(step.holds ?? {}))
      expect([step.name, allocator.assignment(key)?.ips]).toEqual([step.name, ips]);
    for (const [poolName, count] of Object.entries(step.inUse ?? {})) {
      const used = allocator
        .stats()
        .filter((s) => s.pool === poolName)
        .reduce((sum, s) => sum + s.inUse, 0n);
      expect([step.name, used]).toEqual([step.name, BigInt(count)]);
    }
  }
}

describe('Allocator scenarios', () => {
  it('IPv4: automatic, idempotent, requested IPs, pool annotation, exhaustion, reuse', () =>
    runTable([
      {
        name: 'pools',
        setPools: [
          pool('demo', ['203.0.113.0/30']),
          pool('reserved', ['203.0.113.8/30'], { autoAssign: false }),
        ],
      },
      { name: 's1 gets the first address', allocate: 's1', want: { ips: ['203.0.113.0'], pool: 'demo' } },
      {
        name: 's1 again keeps it',
        allocate: 's1',
        want: { ips: ['203.0.113.0'], pool: 'demo' },
        inUse: { demo: 1 },
      },
      { name: 's2 gets the next', allocate: 's2', want: { ips: ['203.0.113.1'], pool: 'demo' } },
      {
        name: "s3 can't grab s2's IP",
        allocate: 's3',
        req: { requestedIPs: ['203.0.113.1'] },
        want: {
          error: 'AddressInUse',
          message:
            'address 203.0.113.1 is in use by s2 and cannot be shared: both services need the same allow-shared-ip key',
        },
        holds: { s2: ['203.0.113.1'], s3: undefined },
      },
      {
        name: 's3 requests an address of a manual pool',
        allocate: 's3',
        req: { requestedIPs: ['203.0.113.9'] },
        want: { ips: ['203.0.113.9'], pool: 'reserved' },
      },
      {
        name: 's4 names the manual pool',
        allocate: 's4',
        req: { pool: 'reserved' },
        want: { ips: ['203.0.113.8'], pool: 'reserved' },
      },
      {
        name: 's5 names a missing pool',
        allocate: 's5',
        req: { pool: 'nope' },
        want: { error: 'UnknownPool', message: 'pool "nope" does not exist' },
      },
      {
        name: 's5 requests an address outside every pool',
        allocate: 's5',
        req: { requestedIPs: ['198.51.100.1'] },
        want: { error: 'NotInPool', message: 'address 198.51.100.1 is not in any pool' },
      },
      {
        name: 's5 requests an address of another pool than it names',
        allocate: 's5',
        req: { requestedIPs: ['203.0.113.2'], pool: 'reserved' },
        want: { error: 'NotInPool' },
      },
      {
        name: 's5 requests two IPv4 addresses',
        allocate: 's5',
        req: { requestedIPs: ['203.0.113.2', '203.0.113.3'] },
        want: { error: 'InvalidRequest' },
      },
      { name: 's5 fills the pool', allocate: 's5', want: { ips: ['203.0.113.2'], pool: 'demo' } },
      { name: 's6 fills the pool', allocate: 's6', want: { ips: ['203.0.113.3'], pool: 'demo' } },
      {
        name: 's7 finds it exhausted',
        allocate: 's7',
        want: { error: 'PoolExhausted', message: 'pool "demo" is exhausted: 4 of 4 IPv4 addresses in use' },
        inUse: { demo: 4 },
      },
      { name: 'release s1', release: 's1', inUse: { demo: 3 } },
      { name: 'releasing an unknown key is a no-op', release: 'ghost', inUse: { demo: 3 } },
      { name: 's7 reuses the freed address', allocate: 's7', want: { ips: ['203.0.113.0'], pool: 'demo' } },
      {
        name: 's4 drops the annotation but keeps its address (no churn)',
        allocate: 's4',
        want: { ips: ['203.0.113.8'], pool: 'reserved' },
      },
      {
        name: 's4 names the other pool: it must move, and demo is full',
        allocate: 's4',
        req: { pool: 'demo' },
        want: { error: 'PoolExhausted' },
        holds: { s4: undefined },
        inUse: { reserved: 1 },
      },
    ]));

  it('sharing: same key, disjoint ports, same backend; symmetric', () =>
    runTable([
      { name: 'pools', setPools: [pool('p', ['10.0.0.0/30'])] },
      {
        name: 'a',
        allocate: 'a',
        req: { sharing: share('k', ['TCP/80']) },
        want: { ips: ['10.0.0.0'], pool: 'p' },
      },
      {
        name: 'b shares with a',
        allocate: 'b',
        req: { sharing: share('k', ['TCP/443']) },
        want: { ips: ['10.0.0.0'], pool: 'p' },
        inUse: { p: 1 },
      },
      {
        name: 'c clashes on a port and gets its own',
        allocate: 'c',
        req: { sharing: share('k', ['TCP/80']) },
        want: { ips: ['10.0.0.1'], pool: 'p' },
      },
      {
        name: 'd has another key',
        allocate: 'd',
        req: { requestedIPs: ['10.0.0.0'], sharing: share('other', ['UDP/53']) },
        want: { error: 'AddressInUse' },
      },
      {
        name: 'e has another backend',
        allocate: 'e',
        req: { requestedIPs: ['10.0.0.0'], sharing: share('k', ['TCP/8080'], 'Local:app=x') },
        want: {
          error: 'AddressInUse',
          message:
            'address 10.0.0.0 is in use by a and cannot be shared: their backends differ (Local:app=x and Cluster)',
        },
      },
      {
        name: 'f has no key',
        allocate: 'f',
        req: { requestedIPs: ['10.0.0.0'] },
        want: { error: 'AddressInUse' },
      },
      {
        name: 'udp and tcp on one port do not clash',
        allocate: 'g',
        req: { requestedIPs: ['10.0.0.0'], sharing: share('k', ['UDP/80']) },
        want: { ips: ['10.0.0.0'], pool: 'p' },
      },
      { name: 'release a', release: 'a', holds: { b: ['10.0.0.0'], g: ['10.0.0.0'] }, inUse: { p: 2 } },
      { name: 'release b', release: 'b' },
      { name: 'release g frees the address', release: 'g', inUse: { p: 1 } },
      {
        name: 'h without a key gets the freed address',
        allocate: 'h',
        want: { ips: ['10.0.0.0'], pool: 'p' },
      },
    ]));

  it('dual-stack: one of each from ONE pool, PreferDualStack falls back', () =>
    runTable([
      {
        name: 'pools',
        setPools: [pool('a-v4', ['10.0.0.0/31']), pool('b-dual', ['10.1.0.0/31', '2001:db8::/127'])],
      },
      {
        name: 'require dual',
        allocate: 's1',
        req: { families: [4, 6], familyPolicy: 'RequireDualStack' },
        want: { ips: ['10.1.0.0', '2001:db8::'], pool: 'b-dual' },
      },
      {
        name: 'prefer dual, IPv6 first',
        allocate: 's2',
        req: { families: [6, 4], familyPolicy: 'PreferDualStack' },
        want: { ips: ['2001:db8::1', '10.1.0.1'], pool: 'b-dual' },
      },
      {
        name: 'require dual, exhausted',
        allocate: 's3',
        req: { families: [4, 6], familyPolicy: 'RequireDualStack' },
        want: { error: 'PoolExhausted' },
      },
      {
        name: 'prefer dual falls back to one address',
        allocate: 's4',
        req: { families: [4, 6], familyPolicy: 'PreferDualStack' },
        want: { ips: ['10.0.0.0'], pool: 'a-v4' },
      },
      {
        name: 'single IPv6, exhausted',
        allocate: 's5',
        req: { families: [6] },
        want: { error: 'PoolExhausted', message: 'pool "b-dual" is exhausted: 2 of 2 IPv6 addresses in use' },
      },
      {
        name: 'require dual with one requested address',
        allocate: 's6',
        req: { families: [4, 6], familyPolicy: 'RequireDualStack', requestedIPs: ['10.0.0.1'] },
        want: { error: 'InvalidRequest' },
      },
      {
        name: 'single stack requesting the other family',
        allocate: 's6',
        req: { requestedIPs: ['2001:db8::1'] },
        want: { error: 'InvalidRequest' },
      },
      { name: 'release s1 frees both', release: 's1', inUse: { 'b-dual': 2 } },
      {
        name: 'restore a dual assignment',
        assign: 's7',
        ips: ['2001:db8::', '10.1.0.0'],
        req: { families: [6, 4], familyPolicy: 'RequireDualStack' },
        want: { ips: ['2001:db8::', '10.1.0.0'], pool: 'b-dual' },
      },
      {
        name: 'restore across two pools is refused',
        assign: 's8',
        ips: ['10.0.0.1', '2001:db8::1'],
        req: { families: [4, 6], familyPolicy: 'PreferDualStack' },
        want: { error: 'NotInPool' },
      },
    ]));

  it('PreferDualStack gains its missing family later, from the same pool only', () =>
    runTable([
      {
        name: 'pools',
        setPools: [pool('dual', ['10.1.0.0/32', '2001:db8::/128']), pool('v6', ['2001:db8:1::/128'])],
      },
      {
        name: 'the IPv6 address is taken',
        allocate: 'holder',
        req: { families: [6] },
        want: { ips: ['2001:db8::'], pool: 'dual' },
      },
      {
        name: 'prefer dual gets IPv4 only',
        allocate: 's',
        req: { families: [4, 6], familyPolicy: 'PreferDualStack' },
        want: { ips: ['10.1.0.0'], pool: 'dual' },
      },
      {
        name: 'still nothing free in its pool: keeps what it holds (the other pool is not used)',
        allocate: 's',
        req: { families: [4, 6], familyPolicy: 'PreferDualStack' },
        want: { ips: ['10.1.0.0'], pool: 'dual' },
      },
      { name: 'IPv6 comes free', release: 'holder', inUse: { dual: 1 } },
      {
        name: 're-sync adds IPv6, in ipFamilies order',
        allocate: 's',
        req: { families: [6, 4], familyPolicy: 'PreferDualStack' },
        want: { ips: ['2001:db8::', '10.1.0.0'], pool: 'dual' },
        inUse: { dual: 2 },
      },
      {
        name: 'single stack is never grown',
        allocate: 't',
        req: { families: [4] },
        want: { error: 'PoolExhausted' },
      },
    ]));

  it('families without a pool', () =>
    runTable([
      { name: 'no pools at all', allocate: 's', want: { error: 'NoPoolAvailable' } },
      { name: 'pools', setPools: [pool('v4', ['10.0.0.0/24'])] },
      { name: 'IPv6 only', allocate: 's', req: { families: [6] }, want: { error: 'NoPoolForFamily' } },
      {
        name: 'require dual',
        allocate: 's',
        req: { families: [4, 6], familyPolicy: 'RequireDualStack' },
        want: { error: 'NoPoolForFamily' },
      },
      {
        name: 'prefer dual takes IPv4',
        allocate: 's',
        req: { families: [6, 4], familyPolicy: 'PreferDualStack' },
        want: { ips: ['10.0.0.0'], pool: 'v4' },
      },
    ]));

  it('serviceAllocation: matching pools first by priority, then the rest', () =>
    runTable([
      {
        name: 'pools',
        setPools: [
          pool('general', ['10.0.0.0/24']),
          pool('team-a', ['10.1.0.0/24'], { serviceAllocation: { priority: 20, namespaces: ['a'] } }),
          pool('team-a-hi', ['10.2.0.0/24'], {
            serviceAllocation: { priority: 10, namespaceSelectors: [{ matchLabels: { team: 'a' } }] },
          }),
          pool('web', ['10.3.0.0/24'], {
            serviceAllocation: {
              serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }],
            },
          }),
          pool('manual', ['10.4.0.0/24'], { autoAssign: false, serviceAllocation: { priority: 1 } }),
        ],
      },
      {
        name: 'namespace label match wins by priority',
        allocate: 's1',
        req: { namespace: 'a', namespaceLabels: { team: 'a' } },
        want: { ips: ['10.2.0.0'], pool: 'team-a-hi' },
      },
      {
        name: 'namespace name match',
        allocate: 's2',
        req: { namespace: 'a' },
        want: { ips: ['10.1.0.0'], pool: 'team-a' },
      },
      {
        name: 'service selector match',
        allocate: 's3',
        req: { namespace: 'b', labels: { app: 'web' } },
        want: { ips: ['10.3.0.0'], pool: 'web' },
      },
      {
        name: 'no match: the general pool',
        allocate: 's4',
        req: { namespace: 'b' },
        want: { ips: ['10.0.0.0'], pool: 'general' },
      },
      {
        name: "naming a pool that doesn't serve the service",
        allocate: 's5',
        req: { namespace: 'b', pool: 'team-a' },
        want: { error: 'PoolNotAllowed' },
      },
      {
        name: "requesting an address of a pool that doesn't serve the service",
        allocate: 's5',
        req: { namespace: 'b', requestedIPs: ['10.1.0.9'] },
        want: { error: 'PoolNotAllowed' },
      },
      {
        name: 'a manual pool by name',
        allocate: 's5',
        req: { namespace: 'b', pool: 'manual' },
        want: { ips: ['10.4.0.0'], pool: 'manual' },
      },
      {
        name: 'labels change: s3 moves',
        allocate: 's3',
        req: { namespace: 'b' },
        want: { ips: ['10.0.0.1'], pool: 'general' },
        inUse: { web: 0 },
      },
    ]));

  it('restore and pool changes: no stealing, evictions name the reason', () =>
    runTable([
      { name: 'pools', setPools: [pool('p1', ['10.0.0.0/29'])] },
      { name: 'restore s1', assign: 's1', ips: ['10.0.0.5'], want: { ips: ['10.0.0.5'], pool: 'p1' } },
      {
        name: 'restore s1 again',
        assign: 's1',
        ips: ['10.0.0.5'],
        want: { ips: ['10.0.0.5'], pool: 'p1' },
        inUse: { p1: 1 },
      },
      {
        name: 's2 claims the same address',
        assign: 's2',
        ips: ['10.0.0.5'],
        want: { error: 'AddressInUse' },
        holds: { s1: ['10.0.0.5'], s2: undefined },
      },
      { name: 's2 claims an address outside', assign: 's2', ips: ['10.9.9.9'], want: { error: 'NotInPool' } },
      {
        name: 'restore with a changed request is refused',
        assign: 's2',
        ips: ['10.0.0.6'],
        req: { requestedIPs: ['10.0.0.7'] },
        want: { error: 'InvalidRequest' },
      },
      {
        name: 'automatic allocation skips restored addresses',
        allocate: 's3',
        want: { ips: ['10.0.0.0'], pool: 'p1' },
      },
      {
        name: 'restore moves s1 to another address',
        assign: 's1',
        ips: ['10.0.0.6'],
        want: { ips: ['10.0.0.6'], pool: 'p1' },
        inUse: { p1: 2 },
      },
      {
        name: 'rename the pool: nobody moves',
        setPools: [pool('q1', ['10.0.0.0/29'])],
        holds: { s1: ['10.0.0.6'], s3: ['10.0.0.0'] },
      },
      { name: 'the pool name follows', allocate: 's1', want: { ips: ['10.0.0.6'], pool: 'q1' } },
      {
        name: 'shrink the pool: s1 is evicted',
        setPools: [pool('q1', ['10.0.0.0/30'])],
        evicted: [{ key: 's1', reason: 'address 10.0.0.6 is no longer in any pool' }],
        holds: { s1: undefined, s3: ['10.0.0.0'] },
        inUse: { q1: 1 },
      },
      {
        name: 'turning on avoidBuggyIPs evicts .0',
        setPools: [pool('q1', ['10.0.0.0/30'], { avoidBuggyIPs: true })],
        evicted: [
          {
            key: 's3',
            reason: 'address 10.0.0.0 is in pool "q1", which avoids addresses ending in .0 or .255',
          },
        ],
      },
    ]));

  it('avoidBuggyIPs skips .0 and .255', () =>
    runTable([
      {
        name: 'pools',
        setPools: [pool('b', ['10.0.0.254-10.0.2.0', '10.0.3.255'], { avoidBuggyIPs: true })],
      },
      { name: 'first', allocate: 's1', want: { ips: ['10.0.0.254'], pool: 'b' } },
      { name: 'skips .255 and .0', allocate: 's2', want: { ips: ['10.0.1.1'], pool: 'b' } },
      {
        name: 'requesting .255 is refused',
        allocate: 's3',
        req: { requestedIPs: ['10.0.1.255'] },
        want: { error: 'NotInPool' },
      },
    ]));
});

describe('Allocator change counters', () => {
  it('freedCount moves when an address returns to a free set, generation when stats may change; a re-sync moves neither', () => {
    const { pools } = buildPoolSet([pool('p', ['10.0.0.0/30'])]);
    const allocator = new Allocator(pools);
    const seen = () => [allocator.freedCount, allocator.generation] as const;
    expect(allocator.allocate('a', request()).ok).toBe(true);
    const [freed0, gen0] = seen();
    expect(allocator.allocate('a', request()).ok).toBe(true);
    expect(allocator.assign('a', ['10.0.0.0'], request()).ok).toBe(true);
    expect(seen()).toEqual([freed0, gen0]);
    // A move: the old address is free again although the number in use stays the same.
    const moved = allocator.allocate('a', request({ requestedIPs: ['10.0.0.2'] }));
    expect(moved.ok && moved.value.ips).toEqual(['10.0.0.2']);
    expect(allocator.freedCount).toBeGreaterThan(freed0);
    expect(allocator.generation).toBeGreaterThan(gen0);
    const [freed1, gen1] = seen();
    expect(allocator.allocate('b', request()).ok).toBe(true);
    expect(allocator.freedCount).toBe(freed1);
    expect(allocator.generation).toBeGreaterThan(gen1);
    const [, gen2] = seen();
    allocator.release('b');
    expect(allocator.freedCount).toBeGreaterThan(freed1);
    expect(allocator.generation).toBeGreaterThan(gen2);
    const [freed3, gen3] = seen();
    allocator.release('nobody');
    expect(seen()).toEqual([freed3, gen3]);
  });
});

describe('Allocator stats', () => {
  it('counts a /8 and a /64 without enumerating them, minus buggy addresses when avoided', () => {
    const { pools } = buildPoolSet([
      pool('big', ['10.0.0.0/8', '2001:db8::/64'], { avoidBuggyIPs: true }),
      pool('small', ['192.0.2.0/30']),
    ]);
    const allocator = new Allocator(pools);
    allocator.allocate('s', request({ families: [4, 6], familyPolicy: 'RequireDualStack' }));
    expect(allocator.stats()).toEqual([
      {
        pool: 'big',
        family: 4,
        total: 2n ** 24n - 2n * 2n ** 16n,
        inUse: 1n,
        available: 2n ** 24n - 2n * 2n ** 16n - 1n,
      },
      { pool: 'big', family: 6, total: 2n ** 64n, inUse: 1n, available: 2n ** 64n - 1n },
      { pool: 'small', family: 4, total: 4n, inUse: 0n, available: 4n },
    ]);
    expect(allocator.assignment('s')).toEqual({ ips: ['10.0.0.1', '2001:db8::'], pool: 'big' });
  });
});
