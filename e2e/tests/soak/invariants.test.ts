import { describe, expect, it } from '@jest/globals';
import { entriesContain, parseEntry } from '../../soak/addresses.js';
import {
  checkInvariants,
  gainsFamilyOnly,
  holdsWhatWasAsked,
  whyNotShareable,
  type Truth,
  type TruthService,
} from '../../soak/invariants.js';
import { emptyModel, servedPools, type Model, type ModelPool, type ModelService } from '../../soak/model.js';
import { applyToModel, DEFAULT_WEIGHTS, describeOp, nextOp } from '../../soak/ops.js';
import { weightsFrom } from '../../soak/own-lab.js';
import { createRng } from '../../soak/rng.js';
import type { SoakApi } from '../../soak/api.js';
import {
  FailureEvents,
  readApiTruth,
  servicesWithEndpoints,
  type EndpointSliceJson,
} from '../../soak/truth.js';

/* The soak's pure parts: the invariant checker must catch each kind of violation, the model must
 * know which pools are served, and a seed must replay the same operations. No cluster needed. */

/** A Service as the API server lists it (uid `uid-<name>`). */
const apiService = (name: string, ingress: string[], spec: Record<string, unknown> = {}) => ({
  metadata: { name, uid: `uid-${name}` },
  spec: { type: 'LoadBalancer', ...spec },
  status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
});

const failureEvent = (uid: string, reason: string) => ({
  reason,
  message: `${reason} of ${uid}`,
  involvedObject: { uid },
});

const eventsPath = (uid: string) =>
  `/api/v1/namespaces/demo/events?fieldSelector=involvedObject.uid%3D${uid}`;

/** A SoakApi that lists `services` and answers event lists by uid from `events`; it keeps the event paths asked. */
function fakeApi(services: unknown[], events: Record<string, unknown[]>): SoakApi & { eventPaths: string[] } {
  const eventPaths: string[] = [];
  return {
    eventPaths,
    call: () => Promise.reject(new Error('not used')),
    apply: () => Promise.reject(new Error('not used')),
    close: () => undefined,
    getJson: <T>(path: string) => {
      if (path.includes('/events?')) eventPaths.push(path);
      const uid = /fieldSelector=involvedObject\.uid%3D(.+)$/.exec(path)?.[1];
      const items = path.includes('/events?')
        ? (events[uid ?? ''] ?? [])
        : path.endsWith('/services')
          ? services
          : [];
      return Promise.resolve({ items } as T);
    },
  };
}

const pool = (name: string, order: number, entries: string[], extra: Partial<ModelPool> = {}): ModelPool => ({
  name,
  order,
  entries,
  autoAssign: true,
  kind: 'normal',
  ...extra,
});

function model(pools: ModelPool[], advertised: string[] | 'all' = 'all'): Model {
  return {
    pools: new Map(pools.map((p) => [p.name, p])),
    adverts: new Map([['a', { name: 'a', pools: advertised }]]),
    services: new Map(),
    serial: 0,
  };
}

const svc = (name: string, ingress: string[], o: Partial<TruthService> = {}): TruthService => ({
  name,
  uid: `uid-${name}`,
  type: 'LoadBalancer',
  annotations: { 'metallb.io/ip-allocated-from-pool': 'p' },
  ports: [{ port: 80, protocol: 'TCP' }],
  etp: 'Cluster',
  selector: { app: 'demo' },
  ingress,
  hasEndpoints: true,
  ...o,
});

const truth = (services: TruthService[], o: Partial<Truth> = {}): Truth => ({
  services,
  failures: new Map(),
  crashed: [],
  ...o,
});

const MAC1 = '02:00:00:00:00:01';
const MAC2 = '02:00:00:00:00:02';
const check = (m: Model, now: Truth, prev?: Truth, touched: string[] = []) =>
  checkInvariants({ model: m, prev, now, touched: new Set(touched), nodeMacs: new Set([MAC1, MAC2]) }).map(
    (v) => v.rule,
  );

describe('soak invariants', () => {
  const m = model([pool('p', 1, ['203.0.113.32/29'])]);

  it('accepts a clean state', () => {
    expect(
      check(m, truth([svc('a', ['203.0.113.32'])], { wire: new Map([['203.0.113.32', [MAC1]]]) })),
    ).toEqual([]);
  });

  it('catches two services on one address without a common sharing key, and allows a legal share', () => {
    expect(check(m, truth([svc('a', ['203.0.113.32']), svc('b', ['203.0.113.32'])]))).toEqual([
      'shared-illegally',
    ]);
    const shared = { 'metallb.io/ip-allocated-from-pool': 'p', 'metallb.io/allow-shared-ip': 'k' };
    const b = svc('b', ['203.0.113.32'], { annotations: shared, ports: [{ port: 443, protocol: 'TCP' }] });
    expect(check(m, truth([svc('a', ['203.0.113.32'], { annotations: shared }), b]))).toEqual([]);
    expect(
      whyNotShareable(svc('a', [], { annotations: shared }), svc('b', [], { annotations: shared })),
    ).toMatch(/TCP\/80/);
    expect(
      whyNotShareable(
        svc('a', [], { annotations: shared, etp: 'Local' }),
        svc('b', [], { annotations: shared, ports: [{ port: 443, protocol: 'TCP' }] }),
      ),
    ).toMatch(/backends differ/);
  });

  it('catches an address outside its pool and a pool that is not served', () => {
    expect(check(m, truth([svc('a', ['203.0.113.40'])]))).toEqual(['outside-pool']);
    expect(
      check(
        m,
        truth([svc('a', ['203.0.113.32'], { annotations: { 'metallb.io/ip-allocated-from-pool': 'gone' } })]),
      ),
    ).toEqual(['outside-pool']);
  });

  it('needs a failure event for an eligible service without an address', () => {
    expect(check(m, truth([svc('a', [])]))).toEqual(['no-address-no-reason']);
    expect(
      check(
        m,
        truth([svc('a', [])], { failures: new Map([['uid-a', ['AllocationFailed: pool p is full']]]) }),
      ),
    ).toEqual([]);
  });

  it('allows an address change only when asked or when the pool lost the address', () => {
    const prev = truth([svc('a', ['203.0.113.32'])]);
    const moved = truth([svc('a', ['203.0.113.33'])]);
    expect(check(m, moved, prev)).toEqual(['address-changed']);
    expect(check(m, moved, prev, ['a'])).toEqual([]);
    const shrunk = model([pool('p', 1, ['203.0.113.33/32', '203.0.113.34/31'])]);
    expect(check(shrunk, moved, prev)).toEqual([]);
  });

  it('lets a Service that does not yet hold what the user asked change later (the controller acted late)', () => {
    const two = model([pool('p', 1, ['203.0.113.32/29']), pool('q', 2, ['203.0.113.40/29'])]);
    const asking = (o: Partial<ModelService>): Model => ({
      ...two,
      services: new Map([
        [
          'a',
          {
            name: 'a',
            type: 'LoadBalancer',
            etp: 'Cluster',
            family: 'IPv4',
            policy: 'SingleStack',
            ports: [80],
            ...o,
          },
        ],
      ]),
    });
    // Asked for pool q a step ago, still held p's address then: losing it now is the ask, late.
    const prev = truth([svc('a', ['203.0.113.32'])]);
    const dropped = truth([svc('a', [])], { failures: new Map([['uid-a', ['AllocationFailed']]]) });
    expect(check(asking({ pool: 'q' }), dropped, prev)).toEqual([]);
    expect(check(asking({ requested: '203.0.113.41' }), dropped, prev)).toEqual([]);
    expect(check(asking({ family: 'IPv6' }), dropped, prev)).toEqual([]);
    // Held part of what it asked (seed 503193563, step 7335: an IPv6 address outside its pool).
    expect(
      check(asking({ policy: 'PreferDualStack', requested: '203.0.113.32,2001:db8:1::106' }), dropped, prev),
    ).toEqual([]);
    // Asked for both families, held one: a new pair later is the ask, late (step 7370).
    expect(check(asking({ policy: 'RequireDualStack' }), dropped, prev)).toEqual([]);
    // Held what it asked for: the same loss is a violation.
    expect(check(asking({ pool: 'p' }), dropped, prev)).toEqual(['address-changed']);
    expect(check(asking({ requested: '203.0.113.32' }), dropped, prev)).toEqual(['address-changed']);
    expect(check(asking({}), dropped, prev)).toEqual(['address-changed']);
    expect(holdsWhatWasAsked(asking({ pool: 'q' }).services.get('a')!, svc('a', ['203.0.113.32']))).toBe(
      false,
    );
  });

  it('lets a PreferDualStack Service gain the family it lacked, and nothing else', () => {
    const dual = model([pool('p', 1, ['203.0.113.32/29', '2001:db8:1::/125'])]);
    const asked = (policy: 'PreferDualStack' | 'SingleStack'): Model => ({
      ...dual,
      services: new Map([
        ['a', { name: 'a', type: 'LoadBalancer', etp: 'Cluster', family: 'IPv4', policy, ports: [80] }],
      ]),
    });
    const prev = truth([svc('a', ['203.0.113.32'])]);
    const gained = truth([svc('a', ['203.0.113.32', '2001:db8:1::1'])]);
    expect(check(asked('PreferDualStack'), gained, prev)).toEqual([]);
    expect(check(asked('SingleStack'), gained, prev)).toEqual(['address-changed']);
    // Losing or swapping the held address is a change whatever the policy.
    const swapped = truth([svc('a', ['203.0.113.33', '2001:db8:1::1'])]);
    expect(check(asked('PreferDualStack'), swapped, prev)).toEqual(['address-changed']);
    expect(gainsFamilyOnly(['203.0.113.32'], ['203.0.113.32', '203.0.113.33'])).toBe(false);
    expect(gainsFamilyOnly(['2001:db8:1::1'], ['203.0.113.32', '2001:db8:1::1'])).toBe(true);
  });

  it('wants exactly one node MAC for an announced address and none for an unadvertised one', () => {
    const t = (macs: string[]) =>
      truth([svc('a', ['203.0.113.32'])], { wire: new Map([['203.0.113.32', macs]]) });
    expect(check(m, t([]))).toEqual(['arp-owners']);
    expect(check(m, t([MAC1, MAC2]))).toEqual(['arp-owners']);
    expect(check(m, t(['02:99:00:00:00:09']))).toEqual(['arp-owners']);
    const unadvertised = model([pool('p', 1, ['203.0.113.32/29'])], ['other']);
    expect(check(unadvertised, t([MAC1]))).toEqual(['arp-owners']);
    expect(check(unadvertised, t([]))).toEqual([]);
  });

  it('wants no answer for a Service without a ready endpoint, as a speaker must not announce it', () => {
    // kube-controller-manager writes the slices; after a kube-apiserver restart it can be tens
    // of seconds late, and the speakers rightly wait for it (seed 503193563, step 3352).
    const t = (macs: string[]) =>
      truth([svc('a', ['203.0.113.32'], { hasEndpoints: false })], {
        wire: new Map([['203.0.113.32', macs]]),
      });
    expect(check(m, t([]))).toEqual([]);
    expect(check(m, t([MAC1]))).toEqual(['arp-owners']);
    // A shared address is announced while any Service on it has an endpoint.
    const sharing = { 'metallb.io/ip-allocated-from-pool': 'p', 'metallb.io/allow-shared-ip': 'k' };
    const shared = truth(
      [
        svc('a', ['203.0.113.32'], { hasEndpoints: false, annotations: sharing }),
        svc('b', ['203.0.113.32'], { annotations: sharing, ports: [{ port: 443, protocol: 'TCP' }] }),
      ],
      { wire: new Map([['203.0.113.32', []]]) },
    );
    expect(check(m, shared)).toEqual(['arp-owners']);
  });

  it('reads endpoints as the EndpointSlice API defines them', () => {
    const slice = (
      service: string | undefined,
      conditions: ({ ready?: boolean; serving?: boolean } | undefined)[],
    ): EndpointSliceJson => ({
      metadata: { labels: service === undefined ? {} : { 'kubernetes.io/service-name': service } },
      endpoints: conditions.map((c) => (c === undefined ? {} : { conditions: c })),
    });
    expect(
      [
        ...servicesWithEndpoints([
          slice('absent-means-ready', [undefined]),
          slice('ready', [{ ready: false }, { ready: true }]),
          slice('serving-only', [{ ready: false, serving: true }]),
          slice('not-ready', [{ ready: false, serving: false }]),
          slice('empty', []),
          { metadata: {}, endpoints: null },
          slice(undefined, [{ ready: true }]),
        ]),
      ].sort(),
    ).toEqual(['absent-means-ready', 'ready', 'serving-only']);
  });

  it('reads failure events only for eligible Services without an address, each by its uid', async () => {
    const api = fakeApi(
      [
        apiService('waiting', []),
        apiService('refused', []),
        apiService('addressed', ['203.0.113.9']),
        apiService('cluster-ip', [], { type: 'ClusterIP' }),
        apiService('other-class', [], { loadBalancerClass: 'example.com/other' }),
      ],
      {
        'uid-waiting': [
          failureEvent('uid-waiting', 'AllocationFailed'),
          failureEvent('uid-waiting', 'IPAllocated'),
        ],
        'uid-refused': [failureEvent('uid-refused', 'LoadBalancerFailed')],
      },
    );
    const got = await readApiTruth(api);
    expect([...got.failures].sort()).toEqual([
      ['uid-refused', ['LoadBalancerFailed: LoadBalancerFailed of uid-refused']],
      ['uid-waiting', ['AllocationFailed: AllocationFailed of uid-waiting']],
    ]);
    expect(api.eventPaths.sort()).toEqual([eventsPath('uid-refused'), eventsPath('uid-waiting')]);

    const settled = fakeApi([apiService('addressed', ['203.0.113.9'])], {});
    expect((await readApiTruth(settled)).failures.size).toBe(0);
    expect(settled.eventPaths).toEqual([]);
  });

  it('asks again only about Services whose failure event it has not found yet', async () => {
    const events: Record<string, unknown[]> = { 'uid-a': [failureEvent('uid-a', 'AllocationFailed')] };
    const api = fakeApi([apiService('a', []), apiService('b', [])], events);
    const failureEvents = new FailureEvents(api);
    expect([...(await readApiTruth(api, failureEvents)).failures.keys()]).toEqual(['uid-a']);

    api.eventPaths.length = 0;
    events['uid-b'] = [failureEvent('uid-b', 'AllocationFailed')];
    expect([...(await readApiTruth(api, failureEvents)).failures.keys()].sort()).toEqual(['uid-a', 'uid-b']);
    expect(api.eventPaths).toEqual([eventsPath('uid-b')]);

    api.eventPaths.length = 0;
    await readApiTruth(api, failureEvents);
    expect(api.eventPaths).toEqual([]);
  });

  it('reports stale statuses and crashes', () => {
    expect(check(m, truth([svc('a', ['203.0.113.32'], { type: 'ClusterIP' })]))).toEqual(['stale-status']);
    expect(check(m, truth([], { crashed: [{ name: 'controller', log: '' }] }))).toEqual(['crashed']);
  });
});

describe('soak model', () => {
  it('serves the older of two overlapping pools, a broken edit its last valid addresses, garbage nothing', () => {
    const served = servedPools(
      model([
        pool('pool-1', 1, ['203.0.113.32/29']),
        pool('zz-overlap-2', 2, ['203.0.113.32-203.0.113.39'], { kind: 'overlap' }),
        pool('pool-3', 3, ['203.0.113.250-203.0.113.240'], { lastValid: ['203.0.113.48/29'] }),
        pool('bad-4', 4, ['banana'], { kind: 'garbage' }),
      ]),
    );
    expect(Object.fromEntries(served)).toEqual({
      'pool-1': ['203.0.113.32/29'],
      'pool-3': ['203.0.113.48/29'],
    });
    // Once the older pool is gone, the overlapping one is served.
    expect([
      ...servedPools(model([pool('zz-overlap-2', 2, ['203.0.113.32/29'], { kind: 'overlap' })])).keys(),
    ]).toEqual(['zz-overlap-2']);
  });

  it('parses pool entries (CIDR, range, single address) and refuses reversed or broken ones', () => {
    expect(entriesContain(['203.0.113.32/29'], '203.0.113.39')).toBe(true);
    expect(entriesContain(['203.0.113.32/29'], '203.0.113.40')).toBe(false);
    expect(entriesContain(['2001:db8:1::100 - 2001:db8:1::107'], '2001:db8:1::107')).toBe(true);
    expect(entriesContain(['2001:db8:1::100/125'], '2001:db8:1::108')).toBe(false);
    expect(parseEntry('203.0.113.60-203.0.113.50')).toBeUndefined();
    expect(parseEntry('203.0.113.0/33')).toBeUndefined();
    expect(parseEntry('banana')).toBeUndefined();
  });

  it('replays: one seed gives the same operations, another seed different ones', () => {
    const run = (seed: number) => {
      const rng = createRng(seed);
      let m = emptyModel();
      const ops: string[] = [];
      for (let i = 0; i < 300; i++) {
        const op = nextOp(rng, m);
        ops.push(describeOp(op));
        m = applyToModel(m, op, false);
      }
      return ops;
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
    // Every family of operations shows up in a run of this length.
    const ops = run(42).join('\n');
    for (const word of [
      'service svc',
      'service-delete',
      'pool pool',
      'l2advertisement',
      'malformed',
      'controller-restart',
      'speaker-restart',
    ])
      expect(ops).toContain(word);
  });
});

describe('the operation mix from the environment', () => {
  it('takes SOAK_WEIGHTS over the defaults and SOAK_SKIP over both', () => {
    const w = weightsFrom({ SOAK_WEIGHTS: 'apiserver=0.3, etcd=0.3,service=80', SOAK_SKIP: 'link,service' });
    expect(w).toEqual({ ...DEFAULT_WEIGHTS, apiserver: 0.3, etcd: 0.3, service: 0, link: 0 });
    expect(weightsFrom({})).toEqual(DEFAULT_WEIGHTS);
  });

  it('names the setting, the pair and the known families when it cannot read them', () => {
    expect(() => weightsFrom({ SOAK_WEIGHTS: 'etcd' })).toThrow(/SOAK_WEIGHTS: "etcd" is not family=weight/);
    expect(() => weightsFrom({ SOAK_WEIGHTS: 'etcd=-1' })).toThrow(/"etcd=-1"/);
    expect(() => weightsFrom({ SOAK_WEIGHTS: 'kubelet=1' })).toThrow(
      /SOAK_WEIGHTS: unknown operation family "kubelet"; known: service, pool/,
    );
    expect(() => weightsFrom({ SOAK_SKIP: 'etc' })).toThrow(/SOAK_SKIP: unknown operation family "etc"/);
  });
});
