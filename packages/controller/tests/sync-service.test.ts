import { describe, expect, it } from '@jest/globals';
import { buildPoolSet, Allocator, type ServiceAllocation } from '@metallb-ts/ipam';
import type { Service } from '@metallb-ts/k8s-runtime';
import { restoreService, syncService, type ServiceOutcome } from '../src/sync-service.js';

type PoolTuple = [string, string[], boolean?, ServiceAllocation?];
const pools = (specs: PoolTuple[]) => {
  const { pools, errors } = buildPoolSet(
    specs.map(([name, addresses, autoAssign = true, serviceAllocation]) => ({
      name,
      addresses,
      autoAssign,
      avoidBuggyIPs: false,
      ...(serviceAllocation ? { serviceAllocation } : {}),
    })),
  );
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return pools;
};
interface SvcOpts {
  ips?: string[];
  annotations?: Record<string, string>;
  type?: string;
  lbIP?: string;
  cls?: string;
  ports?: [string, number][];
  ipFamilies?: string[] | null;
  ipFamilyPolicy?: string;
  clusterIPs?: string[];
  labels?: Record<string, string>;
  namespace?: string;
  externalTrafficPolicy?: string;
  selector?: Record<string, string>;
  uid?: string;
}
const svc = (name: string, opts: SvcOpts = {}): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    namespace: opts.namespace ?? 'demo',
    name,
    uid: opts.uid ?? `uid-${name}`,
    annotations: opts.annotations ?? {},
    ...(opts.labels ? { labels: opts.labels } : {}),
    creationTimestamp: '2026-01-01T00:00:00Z',
  },
  spec: {
    type: opts.type ?? 'LoadBalancer',
    ports: (opts.ports ?? [['TCP', 80]]).map(([protocol, port]) => ({ port, protocol })),
    ...(opts.ipFamilies === null ? {} : { ipFamilies: opts.ipFamilies ?? ['IPv4'] }),
    ...(opts.ipFamilyPolicy ? { ipFamilyPolicy: opts.ipFamilyPolicy } : {}),
    ...(opts.clusterIPs ? { clusterIPs: opts.clusterIPs } : {}),
    ...(opts.lbIP ? { loadBalancerIP: opts.lbIP } : {}),
    ...(opts.cls ? { loadBalancerClass: opts.cls } : {}),
    ...(opts.externalTrafficPolicy ? { externalTrafficPolicy: opts.externalTrafficPolicy } : {}),
    ...(opts.selector ? { selector: opts.selector } : {}),
  },
  status: { loadBalancer: { ingress: (opts.ips ?? []).map((ip) => ({ ip })) } },
});
const reasons = (o: ServiceOutcome) => o.events.map((e) => e.reason);

describe('syncService: one allocator through named steps', () => {
  const a = new Allocator(
    pools([
      ['small', ['203.0.113.200-203.0.113.201']],
      ['reserved', ['203.0.113.210/32'], false],
    ]),
  );

  it('s1: a new LoadBalancer service gets the first free address and an IPAllocated event', () => {
    const o = syncService('demo/s1', svc('s1'), a);
    expect(o.ingress).toEqual(['203.0.113.200']);
    expect(o.pool).toBe('small');
    expect(reasons(o)).toEqual(['IPAllocated']);
  });

  it('s1 again, now holding it: no change, no event (idempotent)', () => {
    const o = syncService('demo/s1', svc('s1', { ips: ['203.0.113.200'] }), a);
    expect(o.ingress).toEqual(['203.0.113.200']);
    expect(o.events).toEqual([]);
  });

  it("s2 cannot grab s1's IP by asking for it", () => {
    const o = syncService(
      'demo/s2',
      svc('s2', { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.200' } }),
      a,
    );
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toContain('203.0.113.200');
    expect(o.ingress).toBeUndefined();
  });

  it('s3 takes the last auto-assign address; s4 finds the pool exhausted, named in the event', () => {
    expect(syncService('demo/s3', svc('s3'), a).ingress).toEqual(['203.0.113.201']);
    const o = syncService('demo/s4', svc('s4'), a);
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toMatch(/small/);
  });

  it('s4 can still use a reserved (autoAssign: false) pool by naming it, with the legacy prefix too', () => {
    const o = syncService(
      'demo/s4',
      svc('s4', { annotations: { 'metallb.universe.tf/address-pool': 'reserved' } }),
      a,
    );
    expect(o.ingress).toEqual(['203.0.113.210']);
    expect(o.pool).toBe('reserved');
  });

  it('an unknown pool is refused with its name', () => {
    const o = syncService('demo/s5', svc('s5', { annotations: { 'metallb.io/address-pool': 'nope' } }), a);
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toContain('nope');
  });

  it('both spec.loadBalancerIP and the annotation: LoadBalancerFailed, nothing taken away', () => {
    const o = syncService(
      'demo/s1',
      svc('s1', {
        ips: ['203.0.113.200'],
        lbIP: '203.0.113.200',
        annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.200' },
      }),
      a,
    );
    expect(reasons(o)).toEqual(['LoadBalancerFailed']);
    expect(o.ingress).toBeUndefined();
    expect(a.assignment('demo/s1')?.ips).toEqual(['203.0.113.200']);
  });

  it('deleting s1 frees its address for the next service', () => {
    syncService('demo/s1', undefined, a);
    expect(a.assignment('demo/s1')).toBeUndefined();
    expect(syncService('demo/s6', svc('s6'), a).ingress).toEqual(['203.0.113.200']);
  });

  it('changing type away from LoadBalancer frees the address and clears what we wrote', () => {
    const o = syncService('demo/s6', svc('s6', { type: 'ClusterIP', ips: ['203.0.113.200'] }), a);
    expect(o).toEqual({ ingress: [], pool: null, events: [] });
    expect(a.assignment('demo/s6')).toBeUndefined();
  });

  it('another loadBalancerClass is not ours: untouched', () => {
    expect(syncService('demo/s7', svc('s7', { cls: 'other.example/lb', ips: ['198.51.100.7'] }), a)).toEqual({
      events: [],
    });
  });
});

describe('syncService: restart keeps addresses', () => {
  it('a fresh allocator restores what services hold, in any order, and allocates around them', () => {
    const p = pools([['pool', ['203.0.113.0/30']]]);
    const held = [svc('b', { ips: ['203.0.113.2'] }), svc('a', { ips: ['203.0.113.0'] })];
    const a = new Allocator(p);
    for (const s of held) expect(syncService(`demo/${s.metadata!.name}`, s, a).events).toEqual([]);
    expect(syncService('demo/c', svc('c'), a).ingress).toEqual(['203.0.113.1']);
    expect(a.assignment('demo/b')?.ips).toEqual(['203.0.113.2']);
  });

  it('a contested address stays with the first holder; the second is told and moved', () => {
    const a = new Allocator(pools([['pool', ['203.0.113.0/30']]]));
    syncService('demo/first', svc('first', { ips: ['203.0.113.1'] }), a);
    const o = syncService('demo/second', svc('second', { ips: ['203.0.113.1'] }), a);
    expect(reasons(o)).toEqual(['ClearAssignment', 'IPAllocated']);
    expect(o.ingress).not.toContain('203.0.113.1');
    expect(a.assignment('demo/first')?.ips).toEqual(['203.0.113.1']);
  });

  it('an address that left every pool moves the service, with a reason', () => {
    const a = new Allocator(pools([['old', ['203.0.113.0/30']]]));
    syncService('demo/x', svc('x', { ips: ['203.0.113.1'] }), a);
    a.setPools(pools([['new', ['203.0.113.100/30']]]));
    const o = syncService('demo/x', svc('x', { ips: ['203.0.113.1'] }), a);
    expect(reasons(o)).toEqual(['ClearAssignment', 'IPAllocated']);
    expect(o.ingress).toEqual(['203.0.113.100']);
  });
});

/** Applies an outcome to the service the way applyOutcome would, so steps can chain. */
const applied = (s: Service, o: ServiceOutcome): Service => {
  if (o.ingress === undefined && o.pool === undefined) return s;
  const annotations = { ...(s.metadata?.annotations ?? {}) };
  if (o.pool === null) delete annotations['metallb.io/ip-allocated-from-pool'];
  else if (o.pool !== undefined) annotations['metallb.io/ip-allocated-from-pool'] = o.pool;
  const ingress = o.ingress ?? (s.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
  return {
    ...s,
    metadata: { ...s.metadata, annotations },
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
  };
};

describe('syncService: a failed allocate never leaves a stale address in the status', () => {
  it.each<{ name: string; change: { annotations: Record<string, string> }; failure: RegExp }>([
    {
      name: 'requested IP changed to one another service holds',
      change: { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1' } },
      failure: /in use by demo\/holder/,
    },
    {
      name: 'pool annotation changed to an exhausted pool',
      change: { annotations: { 'metallb.io/address-pool': 'tiny' } },
      failure: /pool "tiny" is exhausted/,
    },
    {
      name: 'pool annotation changed to a pool that does not exist',
      change: { annotations: { 'metallb.io/address-pool': 'gone' } },
      failure: /pool "gone" does not exist/,
    },
  ])(
    '$name: ClearAssignment + AllocationFailed, status and pool annotation cleared',
    ({ change, failure }) => {
      const a = new Allocator(
        pools([
          ['main', ['203.0.113.0/30']],
          ['tiny', ['203.0.113.8/32'], false],
        ]),
      );
      // holder holds 203.0.113.1 (so asking for it conflicts); t fills the one-address pool tiny.
      expect(
        syncService(
          'demo/holder',
          svc('holder', { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1' } }),
          a,
        ).ingress,
      ).toEqual(['203.0.113.1']);
      expect(
        syncService('demo/t', svc('t', { annotations: { 'metallb.io/address-pool': 'tiny' } }), a).ingress,
      ).toEqual(['203.0.113.8']);
      const first = syncService('demo/x', svc('x'), a);
      expect(first.ingress).toEqual(['203.0.113.0']);
      const before = applied(svc('x'), first);

      const edited = svc('x', {
        ips: ['203.0.113.0'],
        annotations: { ...before.metadata!.annotations, ...change.annotations },
      });
      const o = syncService('demo/x', edited, a);
      expect(reasons(o)).toEqual(['ClearAssignment', 'AllocationFailed']);
      expect(o.events[1]?.message).toMatch(failure);
      expect(o.ingress).toEqual([]);
      expect(o.pool).toBeNull();
      expect(a.assignment('demo/x')).toBeUndefined();
      // Level-based: the cleared service synced again fails again, but asks for no writes.
      const again = syncService('demo/x', applied(edited, o), a);
      expect(reasons(again)).toEqual(['AllocationFailed']);
      expect(again.ingress).toBeUndefined();
      expect(again.pool).toBeUndefined();
    },
  );

  it('a request that is wrong in itself (two IPv4 addresses) keeps the live address, also after a restart', () => {
    const bad = { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1,203.0.113.2' } };
    for (const fresh of [false, true]) {
      const a = new Allocator(pools([['main', ['203.0.113.0/30']]]));
      if (!fresh) syncService('demo/x', svc('x', { ips: ['203.0.113.1'] }), a);
      const o = syncService('demo/x', svc('x', { ips: ['203.0.113.1'], ...bad }), a);
      expect(reasons(o)).toEqual(['LoadBalancerFailed']);
      expect(o.events[0]?.message).toContain('203.0.113.1, 203.0.113.2');
      expect(o.ingress).toBeUndefined();
      expect(a.assignment('demo/x')?.ips).toEqual(['203.0.113.1']);
      // Still reserved: nobody else gets it.
      expect(
        syncService('demo/y', svc('y', { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1' } }), a)
          .ingress,
      ).toBeUndefined();
    }
  });

  it('an invalid request that also breaks a share lets the shared address go (the soak found it kept)', () => {
    // Two Cluster services share 203.0.113.1; then one turns Local (another backend) and, in the
    // same edit, requests an address that does not parse: it may not keep sharing.
    const a = new Allocator(pools([['main', ['203.0.113.0/30']]]));
    const shared = { 'metallb.io/allow-shared-ip': 'k' };
    const one = (name: string, port: number, extra: SvcOpts = {}) =>
      svc(name, { ports: [['TCP', port]], selector: { app: 'demo' }, ...extra });
    expect(
      syncService(
        'demo/a',
        one('a', 80, { annotations: { ...shared, 'metallb.io/loadBalancerIPs': '203.0.113.1' } }),
        a,
      ).ingress,
    ).toEqual(['203.0.113.1']);
    expect(
      syncService(
        'demo/b',
        one('b', 53, { annotations: { ...shared, 'metallb.io/loadBalancerIPs': '203.0.113.1' } }),
        a,
      ).ingress,
    ).toEqual(['203.0.113.1']);
    const o = syncService(
      'demo/b',
      one('b', 53, {
        ips: ['203.0.113.1'],
        externalTrafficPolicy: 'Local',
        annotations: { ...shared, 'metallb.io/loadBalancerIPs': 'not-an-ip' },
      }),
      a,
    );
    expect(reasons(o)).toEqual(['LoadBalancerFailed', 'ClearAssignment']);
    expect(o.events[1]?.message).toContain('203.0.113.1');
    expect(o.ingress).toEqual([]);
    expect(a.assignment('demo/b')).toBeUndefined();
    expect(a.assignment('demo/a')?.ips).toEqual(['203.0.113.1']);
    // The same typo without the policy change keeps the share.
    syncService(
      'demo/b',
      one('b', 53, { annotations: { ...shared, 'metallb.io/loadBalancerIPs': '203.0.113.1' } }),
      a,
    );
    const kept = syncService(
      'demo/b',
      one('b', 53, {
        ips: ['203.0.113.1'],
        annotations: { ...shared, 'metallb.io/loadBalancerIPs': 'not-an-ip' },
      }),
      a,
    );
    expect(reasons(kept)).toEqual(['LoadBalancerFailed']);
    expect(kept.ingress).toBeUndefined();
  });

  it('a held address whose pool changed under an invalid request carries the new pool name (the soak found it stale)', () => {
    // The pool it came from is deleted and an overlapping pool takes its addresses over; the
    // Service's request is invalid meanwhile, so nothing is allocated, but the speakers announce
    // by the pool annotation and must see the new one.
    const a = new Allocator(pools([['old', ['203.0.113.0/30']]]));
    const request = { 'metallb.io/loadBalancerIPs': '203.0.113.1' };
    expect(syncService('demo/x', svc('x', { annotations: request }), a).pool).toBe('old');
    a.setPools(pools([['new', ['203.0.113.0/30']]]));
    const invalid = svc('x', {
      ips: ['203.0.113.1'],
      annotations: { ...request, 'metallb.io/ip-allocated-from-pool': 'old' },
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    const o = syncService('demo/x', invalid, a);
    expect(reasons(o)).toEqual(['LoadBalancerFailed']);
    expect(o.ingress).toBeUndefined();
    expect(o.pool).toBe('new');
  });

  it('spec.loadBalancerIP and the annotation together after a restart: the held address stays reserved', () => {
    const a = new Allocator(pools([['main', ['203.0.113.0/30']]]));
    const o = syncService(
      'demo/x',
      svc('x', {
        ips: ['203.0.113.2'],
        lbIP: '203.0.113.2',
        annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.2' },
      }),
      a,
    );
    expect(reasons(o)).toEqual(['LoadBalancerFailed']);
    expect(o.ingress).toBeUndefined();
    expect(a.assignment('demo/x')?.ips).toEqual(['203.0.113.2']);
  });
});

describe('syncService: not (or no longer) ours', () => {
  const a = () => new Allocator(pools([['main', ['203.0.113.0/30']]]));
  it.each([
    {
      name: 'ClusterIP with our pool annotation, unknown to this process (changed while down)',
      s: svc('x', {
        type: 'ClusterIP',
        ips: ['203.0.113.1'],
        annotations: { 'metallb.io/ip-allocated-from-pool': 'main' },
      }),
      want: { ingress: [], pool: null, events: [] },
    },
    {
      name: 'ClusterIP with the legacy pool annotation',
      s: svc('x', {
        type: 'ClusterIP',
        ips: ['203.0.113.1'],
        annotations: { 'metallb.universe.tf/ip-allocated-from-pool': 'main' },
      }),
      want: { ingress: [], pool: null, events: [] },
    },
    {
      name: 'ClusterIP whose status the API server already cleared: only the annotation goes',
      s: svc('x', { type: 'ClusterIP', annotations: { 'metallb.io/ip-allocated-from-pool': 'main' } }),
      want: { pool: null, events: [] },
    },
    {
      name: 'ClusterIP with an ingress but no pool annotation: not ours to touch',
      s: svc('x', { type: 'ClusterIP', ips: ['198.51.100.9'] }),
      want: { events: [] },
    },
    {
      name: 'another class, even with a pool annotation (another controller wrote it)',
      s: svc('x', {
        cls: 'other.example/lb',
        ips: ['203.0.113.1'],
        annotations: { 'metallb.io/ip-allocated-from-pool': 'theirs' },
      }),
      want: { events: [] },
    },
  ])('$name', ({ s, want }) => {
    expect(syncService('demo/x', s, a())).toEqual(want);
  });

  it('a configured class: only services of that class are served', () => {
    const al = a();
    expect(syncService('demo/x', svc('x'), al, { loadBalancerClass: 'metallb.example/lb' })).toEqual({
      events: [],
    });
    expect(
      syncService('demo/y', svc('y', { cls: 'metallb.example/lb' }), al, {
        loadBalancerClass: 'metallb.example/lb',
      }).ingress,
    ).toEqual(['203.0.113.0']);
  });
});

describe('syncService: dual stack', () => {
  const dualPools = (): PoolTuple[] => [
    ['v4only', ['203.0.113.0/30']],
    ['dual', ['203.0.113.16/30', '2001:db8:1::/64']],
    ['v6only', ['2001:db8:2::/120']],
  ];
  it.each([
    {
      name: 'RequireDualStack [IPv4, IPv6]: one of each from the one dual pool',
      ipFamilies: ['IPv4', 'IPv6'],
      policy: 'RequireDualStack',
      want: ['203.0.113.16', '2001:db8:1::'],
      pool: 'dual',
    },
    {
      name: 'RequireDualStack [IPv6, IPv4]: same pool, IPv6 first',
      ipFamilies: ['IPv6', 'IPv4'],
      policy: 'RequireDualStack',
      want: ['2001:db8:1::', '203.0.113.16'],
      pool: 'dual',
    },
    {
      name: 'PreferDualStack: both from the dual pool',
      ipFamilies: ['IPv4', 'IPv6'],
      policy: 'PreferDualStack',
      want: ['203.0.113.16', '2001:db8:1::'],
      pool: 'dual',
    },
    {
      name: 'SingleStack IPv6: first IPv6 pool by name order',
      ipFamilies: ['IPv6'],
      policy: 'SingleStack',
      want: ['2001:db8:1::'],
      pool: 'dual',
    },
    {
      name: 'no ipFamilies: family from clusterIPs',
      ipFamilies: null,
      policy: undefined,
      clusterIPs: ['2001:db8:ffff::10'],
      want: ['2001:db8:1::'],
      pool: 'dual',
    },
  ])('$name', ({ ipFamilies, policy, clusterIPs, want, pool }) => {
    const a = new Allocator(pools(dualPools()));
    const o = syncService(
      'demo/d',
      svc('d', {
        ipFamilies,
        ...(policy ? { ipFamilyPolicy: policy } : {}),
        ...(clusterIPs ? { clusterIPs } : {}),
      }),
      a,
    );
    expect(o.ingress).toEqual(want);
    expect(o.pool).toBe(pool);
    expect(reasons(o)).toEqual(['IPAllocated']);
  });

  it('RequireDualStack without a dual pool fails naming both families; PreferDualStack falls back to one', () => {
    const a = new Allocator(
      pools([
        ['v4only', ['203.0.113.0/30']],
        ['v6only', ['2001:db8:2::/120']],
      ]),
    );
    const req = syncService(
      'demo/r',
      svc('r', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }),
      a,
    );
    expect(reasons(req)).toEqual(['AllocationFailed']);
    expect(req.events[0]?.message).toMatch(/both IPv4 and IPv6/);
    const pref = syncService(
      'demo/p',
      svc('p', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack' }),
      a,
    );
    expect(pref.ingress).toEqual(['203.0.113.0']);
  });

  it('a dual-stack service restored from its status keeps both addresses', () => {
    const a = new Allocator(pools(dualPools()));
    const s = svc('d', {
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      ips: ['203.0.113.18', '2001:db8:1::7'],
    });
    expect(restoreService('demo/d', s, a)).toBe(true);
    expect(syncService('demo/d', s, a)).toEqual({
      ingress: ['203.0.113.18', '2001:db8:1::7'],
      pool: 'dual',
      events: [],
    });
  });
});

describe('syncService: allow-shared-ip', () => {
  const shared = (name: string, key: string | undefined, ports: [string, number][], extra: SvcOpts = {}) =>
    svc(name, {
      ports,
      ...extra,
      annotations: {
        ...(key === undefined ? {} : { 'metallb.io/allow-shared-ip': key }),
        ...(extra.annotations ?? {}),
      },
    });
  it.each([
    { name: 'same key, disjoint ports: one IP', b: shared('b', 'k', [['TCP', 443]]), together: true },
    {
      name: 'same key, same port but another protocol: one IP',
      b: shared('b', 'k', [['UDP', 80]]),
      together: true,
    },
    {
      name: 'same key (legacy prefix on one side), disjoint ports: one IP',
      b: svc('b', { ports: [['TCP', 443]], annotations: { 'metallb.universe.tf/allow-shared-ip': 'k' } }),
      together: true,
    },
    {
      name: 'same key, overlapping port: different IPs',
      b: shared('b', 'k', [['TCP', 80]]),
      together: false,
    },
    { name: 'different keys: different IPs', b: shared('b', 'other', [['TCP', 443]]), together: false },
    {
      name: 'no key on the second: different IPs',
      b: shared('b', undefined, [['TCP', 443]]),
      together: false,
    },
    {
      name: 'Local vs Cluster traffic policy: different IPs',
      b: shared('b', 'k', [['TCP', 443]], { externalTrafficPolicy: 'Local', selector: { app: 'x' } }),
      together: false,
    },
  ])('$name', ({ b, together }) => {
    const a = new Allocator(pools([['main', ['203.0.113.0/30']]]));
    const first = syncService('demo/a', shared('a', 'k', [['TCP', 80]]), a);
    expect(first.ingress).toEqual(['203.0.113.0']);
    const second = syncService('demo/b', b, a);
    expect(second.ingress).toEqual([together ? '203.0.113.0' : '203.0.113.1']);
  });

  it('two sharers asking for the same IP explicitly: the second is refused when ports overlap', () => {
    const a = new Allocator(pools([['main', ['203.0.113.0/30']]]));
    const ask = { 'metallb.io/loadBalancerIPs': '203.0.113.2' };
    expect(syncService('demo/a', shared('a', 'k', [['TCP', 80]], { annotations: ask }), a).ingress).toEqual([
      '203.0.113.2',
    ]);
    expect(syncService('demo/b', shared('b', 'k', [['TCP', 443]], { annotations: ask }), a).ingress).toEqual([
      '203.0.113.2',
    ]);
    const c = syncService('demo/c', shared('c', 'k', [['TCP', 443]], { annotations: ask }), a);
    expect(reasons(c)).toEqual(['AllocationFailed']);
    expect(c.events[0]?.message).toMatch(/TCP\/443/);
  });

  it('freeing one sharer keeps the address for the other', () => {
    const a = new Allocator(pools([['main', ['203.0.113.0/30']]]));
    syncService('demo/a', shared('a', 'k', [['TCP', 80]]), a);
    syncService('demo/b', shared('b', 'k', [['TCP', 443]]), a);
    syncService('demo/a', undefined, a);
    expect(a.assignment('demo/b')?.ips).toEqual(['203.0.113.0']);
    // Not free yet: a new unrelated service gets the next one.
    expect(syncService('demo/c', svc('c'), a).ingress).toEqual(['203.0.113.1']);
  });
});

describe('syncService: serviceAllocation', () => {
  const sa = (): PoolTuple[] => [
    ['general', ['203.0.113.0/30']],
    [
      'team-a',
      ['203.0.113.16/30'],
      true,
      { priority: 10, namespaceSelectors: [{ matchLabels: { team: 'a' } }] },
    ],
    ['by-name', ['203.0.113.32/30'], true, { priority: 5, namespaces: ['payments'] }],
    [
      'web',
      ['203.0.113.48/30'],
      true,
      {
        priority: 1,
        serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }],
      },
    ],
  ];
  const labelsOf: Record<string, Record<string, string>> = { alpha: { team: 'a' }, payments: { team: 'a' } };
  const opts = { namespaceLabels: (ns: string) => labelsOf[ns] };
  it.each([
    { name: 'namespace labels from the cache select team-a', ns: 'alpha', labels: undefined, pool: 'team-a' },
    {
      name: 'an unlabelled namespace falls through to the general pool',
      ns: 'beta',
      labels: undefined,
      pool: 'general',
    },
    {
      name: 'namespace by name wins on priority (5 < 10)',
      ns: 'payments',
      labels: undefined,
      pool: 'by-name',
    },
    {
      name: 'service labels select the web pool (priority 1)',
      ns: 'alpha',
      labels: { tier: 'web' },
      pool: 'web',
    },
  ])('$name', ({ ns, labels, pool }) => {
    const a = new Allocator(pools(sa()));
    const o = syncService(`${ns}/s`, svc('s', { namespace: ns, ...(labels ? { labels } : {}) }), a, opts);
    expect(o.pool).toBe(pool);
  });

  it('asking by name for a pool whose serviceAllocation excludes the service is refused, naming the pool', () => {
    const a = new Allocator(pools(sa()));
    const o = syncService(
      'beta/s',
      svc('s', { namespace: 'beta', annotations: { 'metallb.io/address-pool': 'team-a' } }),
      a,
      opts,
    );
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toMatch(/team-a/);
  });
});

describe('restoreService: reservations only', () => {
  it('a service that cannot keep its address gets nothing at restore time, so younger holders keep theirs', () => {
    const a = new Allocator(pools([['main', ['203.0.113.0/31']]]));
    // Older service holds an address that left the pools; younger one holds 203.0.113.0.
    const older = svc('older', { ips: ['198.51.100.77'] });
    const younger = svc('younger', { ips: ['203.0.113.0'] });
    expect(restoreService('demo/older', older, a)).toBe(false);
    expect(a.assignment('demo/older')).toBeUndefined();
    expect(restoreService('demo/younger', younger, a)).toBe(true);
    // The normal sync then moves the older one to a free address, with the reason.
    const o = syncService('demo/older', older, a);
    expect(reasons(o)).toEqual(['ClearAssignment', 'IPAllocated']);
    expect(o.ingress).toEqual(['203.0.113.1']);
    expect(a.assignment('demo/younger')?.ips).toEqual(['203.0.113.0']);
  });

  it('services that are not ours are not restored', () => {
    const a = new Allocator(pools([['main', ['203.0.113.0/31']]]));
    expect(restoreService('demo/c', svc('c', { type: 'ClusterIP', ips: ['203.0.113.0'] }), a)).toBe(true);
    expect(a.assignment('demo/c')).toBeUndefined();
  });
});

describe('restoreService: a restart keeps what an invalid request holds', () => {
  // One address only, so whoever is restored first is the only one that can have it.
  const onePool = () => pools([['one', ['203.0.113.5/32']]]);
  const restart = (holder: Service, other: Service) => {
    const a = new Allocator(onePool());
    expect(restoreService('demo/holder', holder, a)).toBe(true);
    const first = syncService('demo/holder', holder, a);
    const second = syncService('demo/other', other, a);
    return { a, first, second };
  };

  it('RequireDualStack with one requested IP: the holder keeps 203.0.113.5, the other service does not get it', () => {
    // While the controller ran, the holder got LoadBalancerFailed and kept its address.
    const holder = svc('holder', {
      ips: ['203.0.113.5'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.5' },
    });
    const { a, first, second } = restart(holder, svc('other'));
    expect(reasons(first)).toEqual(['LoadBalancerFailed']);
    expect(first.ingress).toBeUndefined();
    expect(second.ingress ?? []).not.toContain('203.0.113.5');
    expect(reasons(second)).toEqual(['AllocationFailed']);
    expect(a.assignment('demo/holder')?.ips).toEqual(['203.0.113.5']);
  });

  it('two IPv4 addresses requested by a RequireDualStack service: the holder keeps its address', () => {
    const holder = svc('holder', {
      ips: ['203.0.113.5'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.5,203.0.113.6' },
    });
    const other = svc('other', { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.5' } });
    const { a, first, second } = restart(holder, other);
    expect(reasons(first)).toEqual(['LoadBalancerFailed']);
    expect(first.ingress).toBeUndefined();
    expect(second.ingress ?? []).not.toContain('203.0.113.5');
    expect(a.assignment('demo/holder')?.ips).toEqual(['203.0.113.5']);
  });

  it('spec.loadBalancerIP and the annotation both set: the holder keeps its address across a restart', () => {
    const holder = svc('holder', {
      ips: ['203.0.113.5'],
      ipFamilies: ['IPv6'],
      lbIP: '203.0.113.5',
      annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.5' },
    });
    const { a, first, second } = restart(holder, svc('other'));
    expect(reasons(first)).toEqual(['LoadBalancerFailed']);
    expect(second.ingress ?? []).not.toContain('203.0.113.5');
    expect(a.assignment('demo/holder')?.ips).toEqual(['203.0.113.5']);
  });

  it('the restored state is the running state: a valid request that no longer fits still moves on its sync', () => {
    const a = new Allocator(
      pools([
        ['old', ['203.0.113.5/32']],
        ['new', ['203.0.113.64/32']],
      ]),
    );
    const moved = svc('moved', { ips: ['203.0.113.5'], annotations: { 'metallb.io/address-pool': 'new' } });
    expect(restoreService('demo/moved', moved, a)).toBe(true);
    expect(a.assignment('demo/moved')?.ips).toEqual(['203.0.113.5']);
    const o = syncService('demo/moved', moved, a);
    expect(o.ingress).toEqual(['203.0.113.64']);
    expect(o.pool).toBe('new');
  });

  it('a pool annotation changed while the request is invalid: the restart keeps the address, as the running controller does', () => {
    const a = new Allocator(
      pools([
        ['old', ['203.0.113.5/32']],
        ['new', ['203.0.113.64/32']],
      ]),
    );
    const holder = svc('holder', {
      ips: ['203.0.113.5'],
      lbIP: '203.0.113.5',
      annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.5', 'metallb.io/address-pool': 'new' },
    });
    expect(restoreService('demo/holder', holder, a)).toBe(true);
    const o = syncService('demo/holder', holder, a);
    expect(reasons(o)).toEqual(['LoadBalancerFailed']);
    expect(o.ingress).toBeUndefined();
    expect(a.assignment('demo/holder')).toEqual({ ips: ['203.0.113.5'], pool: 'old' });
  });

  it('an address outside every pool or held by an older service is still not restored', () => {
    const a = new Allocator(onePool());
    expect(restoreService('demo/first', svc('first', { ips: ['203.0.113.5'] }), a)).toBe(true);
    const invalid = { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' };
    expect(restoreService('demo/second', svc('second', { ...invalid, ips: ['203.0.113.5'] }), a)).toBe(false);
    expect(restoreService('demo/third', svc('third', { ...invalid, ips: ['198.51.100.1'] }), a)).toBe(false);
    expect(a.assignment('demo/first')?.ips).toEqual(['203.0.113.5']);
    expect(a.assignment('demo/second')).toBeUndefined();
  });
});
