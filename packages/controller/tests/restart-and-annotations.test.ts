import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import {
  FakeCluster,
  eventually,
  ingressOf,
  ipPool,
  lbService,
  settle,
  startController,
  startWithAddressHeld,
} from './fake-cluster.js';

type Svc = KubeObject & {
  metadata: { annotations?: Record<string, string>; creationTimestamp?: string };
  spec: Record<string, unknown>;
};

const reasonsOf = (cluster: FakeCluster, name: string) =>
  cluster.events.filter((e) => e.name === name).map((e) => e.reason);

describe('Controller: a restart keeps what a Service with an invalid request holds', () => {
  it('the holder keeps 10.0.0.0 across a restart; a Service created later does not get it', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('one', ['10.0.0.0/32']));
    cluster.put(lbService('holder'));
    const first = await startController(cluster);
    try {
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'holder'))).toEqual(['10.0.0.0']),
      );
      // The request becomes invalid: RequireDualStack with one requested address.
      const now = cluster.get<Svc>('Service', 'default', 'holder')!;
      cluster.put({
        ...now,
        metadata: { ...now.metadata, annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.0' } },
        spec: { ...now.spec, ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' },
      } as KubeObject);
      await eventually(() => expect(reasonsOf(cluster, 'holder')).toContain('LoadBalancerFailed'));
      expect(ingressOf(cluster.get('Service', 'default', 'holder'))).toEqual(['10.0.0.0']);
    } finally {
      await first.stop();
    }
    // Created while the controller is down: after the restart it competes for the only address.
    cluster.put(lbService('newcomer'));
    const second = await startController(cluster);
    try {
      await eventually(() => expect(reasonsOf(cluster, 'newcomer')).toContain('AllocationFailed'));
      await settle();
      expect(ingressOf(cluster.get('Service', 'default', 'holder'))).toEqual(['10.0.0.0']);
      expect(ingressOf(cluster.get('Service', 'default', 'newcomer'))).toEqual([]);
      expect(second.allocator.assignment('default/holder')?.ips).toEqual(['10.0.0.0']);
    } finally {
      await second.stop();
    }
  });
});

describe('Controller: an annotation-only change of a Service is synced at once', () => {
  it('changing only metallb.io/address-pool moves the Service to the named pool', async () => {
    const { cluster, controller } = await startWithAddressHeld('web');
    try {
      await settle();
      const now = cluster.get<Svc>('Service', 'default', 'web')!;
      // Only metadata changes: same spec, same status (as `kubectl annotate` does).
      cluster.put({
        ...now,
        metadata: {
          ...now.metadata,
          annotations: { ...now.metadata.annotations, 'metallb.io/address-pool': 'reserved' },
        },
      } as KubeObject);
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'web'))).toEqual(['10.0.1.0']),
      );
      const after = cluster.get<Svc>('Service', 'default', 'web')!;
      expect(after.metadata.annotations?.['metallb.io/ip-allocated-from-pool']).toBe('reserved');
    } finally {
      await controller.stop();
    }
  });
});
