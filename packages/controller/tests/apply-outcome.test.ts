import { describe, expect, it } from '@jest/globals';
import type { Service } from '@metallb-ts/k8s-runtime';
import { applyOutcome } from '../src/apply-outcome.js';
import { FakeCluster, lbService } from './fake-cluster.js';

const withAnnotations = (annotations: Record<string, string>): Service =>
  lbService('web', { annotations }) as Service;

describe('applyOutcome', () => {
  it('drops the legacy ip-allocated-from-pool annotation in the same patch that writes the new one', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({ 'metallb.universe.tf/ip-allocated-from-pool': 'old-pool' });
    cluster.put(svc);
    const writes = await applyOutcome(cluster.kube, cluster.recorder, svc, {
      pool: 'new-pool',
      events: [],
    });
    expect(writes).toBe(1);
    expect(cluster.patches.map((p) => p.patch)).toEqual([
      {
        metadata: {
          annotations: {
            'metallb.io/ip-allocated-from-pool': 'new-pool',
            'metallb.universe.tf/ip-allocated-from-pool': null,
          },
        },
      },
    ]);
    expect(cluster.get<Service>('Service', 'default', 'web')?.metadata?.annotations).toEqual({
      'metallb.io/ip-allocated-from-pool': 'new-pool',
    });
  });

  it('removes a leftover legacy key even when the new annotation already names the pool, then writes nothing', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({
      'metallb.io/ip-allocated-from-pool': 'p',
      'metallb.universe.tf/ip-allocated-from-pool': 'p',
    });
    cluster.put(svc);
    const kube = cluster.kube;
    expect(await applyOutcome(kube, cluster.recorder, svc, { pool: 'p', events: [] })).toBe(1);
    const after = cluster.get<Service>('Service', 'default', 'web');
    expect(after?.metadata?.annotations).toEqual({ 'metallb.io/ip-allocated-from-pool': 'p' });
    expect(await applyOutcome(kube, cluster.recorder, after, { pool: 'p', events: [] })).toBe(0);
  });

  it('clearing the pool (null) clears both keys', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({ 'metallb.universe.tf/ip-allocated-from-pool': 'p' });
    cluster.put(svc);
    await applyOutcome(cluster.kube, cluster.recorder, svc, { pool: null, events: [] });
    expect(cluster.get<Service>('Service', 'default', 'web')?.metadata?.annotations ?? {}).toEqual({});
  });
});
