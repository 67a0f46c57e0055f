import { describe, expect, it } from '@jest/globals';
import type { Condition } from '@metallb-ts/api';
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import {
  FakeCluster,
  NS,
  eventually,
  ingressOf,
  ipPool,
  lbService,
  startController,
} from './fake-cluster.js';

type WithConditions = KubeObject & { status?: { conditions?: Condition[] } };

/** Every Valid condition the controller ever wrote on `name`, in order. */
const validWrites = (cluster: FakeCluster, name: string) =>
  cluster.patches
    .filter((p) => p.kind === 'IPAddressPool' && p.name === name && p.subresource === 'status')
    .map((p) => (p.patch as { status: { conditions?: Condition[] } }).status.conditions)
    .map((cs) => cs?.find((c) => c.type === 'Valid'))
    .map((c) => `${c?.status} ${c?.reason}`);

describe('the Valid condition of a pool object', () => {
  it('is never written from a reload that did not read the object: a new overlapping pool is not reported valid', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('first', ['10.0.0.0/24']));
    const controller = await startController(cluster);
    try {
      await eventually(() => expect(validWrites(cluster, 'first')).toEqual(['True Serving']));
      // The new pool's reload waits for the rest of a burst (CONFIG_FOLD_MS); a Service allocated
      // meanwhile changes the usage counts, and the status pass that follows sees the new object.
      cluster.put(ipPool('overlapping', ['10.0.0.128/25']));
      cluster.put(lbService('meanwhile'));
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'meanwhile'))).toEqual(['10.0.0.0']),
      );
      await eventually(() =>
        expect(
          cluster.get<WithConditions>('IPAddressPool', NS, 'overlapping')?.status?.conditions?.[0],
        ).toMatchObject({ type: 'Valid', status: 'False', reason: 'InvalidConfiguration' }),
      );
      expect(validWrites(cluster, 'overlapping')).toEqual(['False InvalidConfiguration']);
    } finally {
      await controller.stop();
    }
  });

  it('is not rewritten from the previous reload after an edit that breaks the pool', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('first', ['10.0.0.0/24']));
    cluster.put(ipPool('second', ['10.0.1.0/24']));
    const controller = await startController(cluster);
    try {
      await eventually(() => expect(validWrites(cluster, 'second')).toEqual(['True Serving']));
      const before = validWrites(cluster, 'second').length;
      // An edit that makes `second` overlap `first`, then a usage change before its reload.
      cluster.put(ipPool('second', ['10.0.0.0/23']));
      cluster.put(lbService('meanwhile'));
      await eventually(() =>
        expect(
          cluster.get<WithConditions>('IPAddressPool', NS, 'second')?.status?.conditions?.[0],
        ).toMatchObject({ type: 'Valid', status: 'False' }),
      );
      expect(
        validWrites(cluster, 'second')
          .slice(before)
          .every((w) => w.startsWith('False')),
      ).toBe(true);
    } finally {
      await controller.stop();
    }
  });
});
