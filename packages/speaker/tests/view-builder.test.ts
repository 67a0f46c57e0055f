import { describe, expect, it } from '@jest/globals';
import type { EndpointSlice, Service } from '@metallb-ts/k8s-runtime';
import { decideAnnouncements } from '../src/announcements.js';
import { electionAlive } from '../src/membership-port.js';
import { buildView, type ViewInputs } from '../src/view-builder.js';
import { kubeNode, l2Config } from './decide-inputs.js';

const config = l2Config(
  { a: ['192.0.2.0/28'], b: ['192.0.2.16/28'] },
  { ipAddressPools: ['a'], interfaces: ['eth1'] },
);

const svc = (
  name: string,
  ip: string | undefined,
  extra: Partial<Service['spec']> = {},
  annotations = {},
): Service =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'demo', annotations },
    spec: { type: 'LoadBalancer', ...extra },
    status: { loadBalancer: { ingress: ip ? [{ ip }] : [] } },
  }) as Service;
const slice = (service: string, node: string, ready = true): EndpointSlice =>
  ({
    metadata: {
      name: `${service}-${node}`,
      namespace: 'demo',
      labels: { 'kubernetes.io/service-name': service },
    },
    endpoints: [{ addresses: ['10.0.0.1'], nodeName: node, conditions: { ready } }],
  }) as EndpointSlice;

const inputs = (over: Partial<ViewInputs> = {}): ViewInputs => ({
  me: 'n1',
  services: [
    svc('web', '192.0.2.1', { externalTrafficPolicy: 'Local' }),
    svc('pending', undefined),
    svc('classy', '192.0.2.2', { loadBalancerClass: 'other' }),
    svc('annotated', '192.0.2.17', {}, { 'metallb.io/ip-allocated-from-pool': 'a' }),
    svc('nopool', '198.51.100.1'),
  ],
  slices: [slice('web', 'n2'), slice('annotated', 'n1', false)],
  nodes: [kubeNode('n1'), kubeNode('n2', true)],
  config,
  alive: new Set(['n1', 'n2']),
  ...over,
});

describe('buildView (pure)', () => {
  it('keeps our LoadBalancers with an address, with their endpoints, policy and pool', () => {
    const v = buildView(inputs());
    expect(v.services.map((s) => [s.key, s.ips, s.externalTrafficPolicy, s.pool])).toEqual([
      ['demo/web', ['192.0.2.1'], 'Local', 'a'],
      // The annotation wins over the address's pool.
      ['demo/annotated', ['192.0.2.17'], 'Cluster', 'a'],
      ['demo/nopool', ['198.51.100.1'], 'Cluster', undefined],
    ]);
    expect([...v.services[0]!.endpointNodes]).toEqual(['n2']);
    expect(v.nodes).toEqual([
      { name: 'n1', labels: { zone: 'z' }, networkUnavailable: false },
      { name: 'n2', labels: { zone: 'z' }, networkUnavailable: true },
    ]);
    expect(v.policy('a', v.nodes[0]!, { labels: {} })).toEqual({ announce: true, interfaces: ['eth1'] });
    expect(v.policy('b', v.nodes[0]!, { labels: {} }).announce).toBe(false);
    expect(v.policy(undefined, v.nodes[0]!, { labels: {} })).toEqual({ announce: false, interfaces: [] });
  });

  it('serves another class when told to', () => {
    const v = buildView(inputs({ loadBalancerClass: 'other' }));
    expect(v.services.map((s) => s.key)).toEqual(['demo/classy']);
  });

  it('the membership verdict decides whether this node is a candidate', () => {
    const snapshot = { alive: new Set(['n2']), verdict: { state: 'alive' as const, reason: '' } };
    const services = [svc('annotated', '192.0.2.17', {}, { 'metallb.io/ip-allocated-from-pool': 'a' })];
    const slices = [slice('annotated', 'n1'), slice('annotated', 'n2')];
    const nodes = [kubeNode('n1'), kubeNode('n2')];
    const decide = (state: 'alive' | 'fenced' | 'holding') =>
      decideAnnouncements(
        buildView(
          inputs({
            services,
            slices,
            nodes,
            alive: electionAlive('n1', { ...snapshot, verdict: { state, reason: '' } }),
          }),
        ),
      ).decisions[0]!.candidates;
    expect(decide('alive')).toEqual(expect.arrayContaining(['n1', 'n2']));
    expect(decide('fenced')).toEqual(['n2']);
    expect(decide('holding')).toEqual(['n2']);
  });
});
