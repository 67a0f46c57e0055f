import { describe, expect, it } from '@jest/globals';
import { LastGoodConfig } from '@metallb-ts/api';
import type { EndpointSlice, Node as KubeNode, Service } from '@metallb-ts/k8s-runtime';
import fc from 'fast-check';
import { decideAnnouncements, electionKeys, servedOn } from '../src/announcements.js';
import { decideServed } from '../src/decide.js';
import { candidatesFor, EXCLUDE_LB_LABEL } from '../src/candidates.js';
import { electNode } from '../src/election.js';
import { buildView, type ViewInputs } from '../src/view-builder.js';
import { ipAddressPool, l2Advertisement } from './decide-inputs.js';

const NODES = ['n1', 'n2', 'n3', 'n4'];
const SERVICES = ['s0', 's1', 's2', 's3', 's4', 's5'];
// Few addresses, so services share them (and the election keys link them) often.
const IPS = ['192.0.2.1', '192.0.2.2', '192.0.2.17', '2001:db8::1', '2001:db8::2', '198.51.100.1'];

/** The pool objects for one of a few configurations: plain, per-node, per-service, per-interface. */
function configObjects(variant: number) {
  const spec = [
    { ipAddressPools: ['a', 'b'] },
    { ipAddressPools: ['a'], nodeSelectors: [{ matchLabels: { zone: 'z1' } }] },
    { ipAddressPools: ['a', 'b'], serviceSelectors: [{ matchLabels: { tier: 'front' } }] },
    { ipAddressPools: ['b'], interfaces: ['eth1'] },
  ][variant % 4]!;
  return {
    addressPools: [],
    ipAddressPools: [
      ipAddressPool('a', ['192.0.2.0/28', '2001:db8::/120']),
      ipAddressPool('b', ['192.0.2.16/28']),
    ],
    l2Advertisements: [
      l2Advertisement('l2', spec),
      l2Advertisement('l2-eth2', { ipAddressPools: ['a'], interfaces: ['eth2'] }),
    ],
  };
}

const configOf = (variant: number) => new LastGoodConfig().update(configObjects(variant)).config;

const change = fc.oneof(
  fc.record({
    kind: fc.constant('service' as const),
    name: fc.constantFrom(...SERVICES),
    ips: fc.shuffledSubarray(IPS, { maxLength: 2 }),
    local: fc.boolean(),
    front: fc.boolean(),
    ours: fc.integer({ min: 0, max: 5 }),
    pool: fc.constantFrom(undefined, 'a', 'b'),
  }),
  fc.record({ kind: fc.constant('deleteService' as const), name: fc.constantFrom(...SERVICES) }),
  fc.record({
    kind: fc.constant('slice' as const),
    name: fc.constantFrom(...SERVICES),
    part: fc.constantFrom('x', 'y'),
    endpoints: fc.array(
      fc.record({ node: fc.constantFrom(...NODES), ready: fc.boolean(), serving: fc.boolean() }),
      { maxLength: 3 },
    ),
  }),
  fc.record({
    kind: fc.constant('deleteSlice' as const),
    name: fc.constantFrom(...SERVICES),
    part: fc.constantFrom('x', 'y'),
  }),
  fc.record({
    kind: fc.constant('node' as const),
    name: fc.constantFrom(...NODES),
    zone: fc.constantFrom('z1', 'z2'),
    excluded: fc.boolean(),
    unavailable: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('alive' as const), alive: fc.subarray(NODES) }),
  fc.record({ kind: fc.constant('config' as const), variant: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('same' as const) }),
);
type Change = typeof change extends fc.Arbitrary<infer C> ? C : never;

/** The caches' state: objects replaced on change, never changed in place, as the watch caches do. */
interface World {
  services: Map<string, Service>;
  slices: Map<string, EndpointSlice>;
  nodes: Map<string, KubeNode>;
  alive: string[];
  variant: number;
}

function apply(w: World, c: Change, step: number): void {
  switch (c.kind) {
    case 'service':
      w.services.set(c.name, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: c.name,
          namespace: 'demo',
          resourceVersion: String(step),
          labels: c.front ? { tier: 'front' } : {},
          annotations: c.pool ? { 'metallb.io/ip-allocated-from-pool': c.pool } : {},
        },
        spec: {
          type: c.ours === 0 ? 'ClusterIP' : 'LoadBalancer',
          ...(c.ours === 1 ? { loadBalancerClass: 'other' } : {}),
          externalTrafficPolicy: c.local ? 'Local' : 'Cluster',
        },
        status: { loadBalancer: { ingress: c.ips.map((ip) => ({ ip })) } },
      } as Service);
      return;
    case 'deleteService':
      w.services.delete(c.name);
      return;
    case 'slice':
      w.slices.set(`${c.name}-${c.part}`, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${c.name}-${c.part}`,
          namespace: 'demo',
          resourceVersion: String(step),
          labels: { 'kubernetes.io/service-name': c.name },
        },
        endpoints: c.endpoints.map((e) => ({
          addresses: ['10.0.0.1'],
          nodeName: e.node,
          conditions: { ready: e.ready, serving: e.serving },
        })),
      } as EndpointSlice);
      return;
    case 'deleteSlice':
      w.slices.delete(`${c.name}-${c.part}`);
      return;
    case 'node':
      w.nodes.set(c.name, {
        metadata: {
          name: c.name,
          resourceVersion: String(step),
          labels: { zone: c.zone, ...(c.excluded ? { [EXCLUDE_LB_LABEL]: '' } : {}) },
        },
        status: { conditions: c.unavailable ? [{ type: 'NetworkUnavailable', status: 'True' }] : [] },
      } as KubeNode);
      return;
    case 'alive':
      w.alive = c.alive;
      return;
    case 'config':
      w.variant = c.variant;
      return;
    case 'same':
      return;
  }
}

const inputsOf = (w: World, config: ViewInputs['config'], copy: <T>(x: T) => T, me: string): ViewInputs => ({
  me,
  services: [...w.services.values()].map(copy),
  slices: [...w.slices.values()].map(copy),
  nodes: [...w.nodes.values()].map(copy),
  config,
  alive: new Set(w.alive),
});

describe('decide memo', () => {
  it('memoized and fresh decisions are equal over random sequences of changes', () => {
    fc.assert(
      fc.property(
        fc.array(change, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(...NODES),
        fc.boolean(),
        (changes, me, ignoreExcludeLabel) => {
          const world: World = {
            services: new Map(),
            slices: new Map(),
            nodes: new Map(
              NODES.map((n) => [n, { metadata: { name: n, labels: { zone: 'z1' } } } as KubeNode]),
            ),
            alive: [...NODES],
            variant: 0,
          };
          // Every service starts with an address and endpoints everywhere, so any change can matter.
          SERVICES.forEach((name, k) => {
            const ips = [IPS[k % IPS.length]!];
            apply(
              world,
              { kind: 'service', name, ips, local: k % 2 === 0, front: k < 3, ours: 2, pool: undefined },
              0,
            );
            const endpoints = NODES.map((node) => ({ node, ready: true, serving: true }));
            apply(world, { kind: 'slice', name, part: 'x', endpoints }, 0);
          });
          // The memoized side keeps its config object until the configuration changes, as SpeakerCaches does.
          let config = configOf(0);
          changes.forEach((c, step) => {
            apply(world, c, step);
            if (c.kind === 'config') config = configOf(c.variant);
            const memoized = decideAnnouncements(
              buildView({ ...inputsOf(world, config, (x) => x, me), ignoreExcludeLabel }),
            );
            // What the speaker calls, twice per change: the second call finds the same inputs.
            const links = step % 3 === 0 ? ['eth0'] : ['eth0', 'eth1', 'eth2'];
            const served = decideServed({
              ...inputsOf(world, config, (x) => x, me),
              ignoreExcludeLabel,
              links,
            });
            const again = decideServed({
              ...inputsOf(world, config, (x) => x, me),
              ignoreExcludeLabel,
              links,
            });
            // Fresh: every object copied and a new config object, so no memo entry can match.
            const fresh = decideAnnouncements(
              buildView({
                ...inputsOf(world, configOf(world.variant), (x) => structuredClone(x), me),
                ignoreExcludeLabel,
              }),
            );
            expect(memoized.decisions).toEqual(fresh.decisions);
            expect(memoized.announce).toEqual(fresh.announce);
            expect(served.decisions).toEqual(fresh.decisions);
            expect(served.served).toEqual(servedOn(fresh.announce, links));
            expect(again).toBe(served);
            // And each election as the rules state it, node by node, with no memo on the way.
            const view = buildView({
              ...inputsOf(world, configOf(world.variant), (x) => structuredClone(x), me),
              ignoreExcludeLabel,
            });
            const keys = electionKeys(view.services);
            expect(fresh.decisions).toEqual(
              view.services.map((svc) => {
                const candidates = candidatesFor(svc, {
                  nodes: view.nodes,
                  alive: view.alive,
                  nodeAllowed: (n) => view.policy(svc.pool, n, { labels: svc.labels ?? {} }).announce,
                  ignoreExcludeLabel,
                });
                const winner = electNode(candidates, keys.get(svc.key)!);
                return { service: svc.key, ips: svc.ips, winner, candidates };
              }),
            );
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('an unchanged service keeps its decision object; a membership change re-elects at once', () => {
    const world: World = {
      services: new Map(),
      slices: new Map(),
      nodes: new Map(NODES.map((n) => [n, { metadata: { name: n, labels: { zone: 'z1' } } } as KubeNode])),
      alive: [...NODES],
      variant: 0,
    };
    apply(
      world,
      { kind: 'service', name: 's0', ips: ['192.0.2.1'], local: false, front: false, ours: 2, pool: 'a' },
      1,
    );
    apply(
      world,
      { kind: 'slice', name: 's0', part: 'x', endpoints: [{ node: 'n1', ready: true, serving: true }] },
      2,
    );
    const config = configOf(0);
    const decide = () =>
      decideAnnouncements(buildView(inputsOf(world, config, (x) => x, 'n1'))).decisions[0]!;
    const first = decide();
    expect(first.candidates).toEqual(NODES);
    expect(decide()).toBe(first);
    world.alive = NODES.filter((n) => n !== first.winner);
    const after = decide();
    expect(after.candidates).toEqual(world.alive);
    expect(after.winner).not.toBe(first.winner);
    expect(after.winner).toBeDefined();
  });

  it('electionKeys: every service is elected by the lowest first address of all services it is linked to', () => {
    /** The definition, walked naively: services are linked when they share an address, also through others. */
    const naive = (services: { key: string; ips: string[] }[]): Map<string, string> => {
      const held = services.filter((s) => s.ips.length > 0);
      const out = new Map<string, string>();
      for (const s of held) {
        const group = new Set([s]);
        for (let grew = true; grew;) {
          grew = false;
          for (const o of held)
            if (!group.has(o) && o.ips.some((ip) => [...group].some((g) => g.ips.includes(ip)))) {
              group.add(o);
              grew = true;
            }
        }
        out.set(s.key, [...group].map((g) => g.ips[0]!).sort()[0]!);
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            key: fc.constantFrom(...SERVICES, 't0', 't1', 't2'),
            ips: fc.shuffledSubarray(IPS, { maxLength: 3 }),
          }),
          { selector: (s) => s.key, maxLength: 9 },
        ),
        (services) => {
          expect(electionKeys(services)).toEqual(naive(services));
        },
      ),
      { numRuns: 500 },
    );
  });
});
