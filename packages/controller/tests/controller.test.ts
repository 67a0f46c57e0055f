import { describe, expect, it, jest } from '@jest/globals';
import { LAST_VALID_SPEC_ANNOTATION, LastGoodConfig, type Condition } from '@metallb-ts/api';
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import {
  FakeCluster,
  NS,
  eventually,
  ingressOf,
  ipPool,
  lbService,
  settle,
  startController,
  startWithAddressHeld,
  startWithMetrics,
  l2Advertisement,
} from './fake-cluster.js';
import { POOL_STATUS_FOLD_MS } from '../src/controller.js';

const namespace = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}) =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } }) as never;

/** Pool `a` valid, pool `b` overlapping it, L2Advertisement `ad` naming `a` and a missing pool. */
function withInvalidPoolAndAdvertisement(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.put(ipPool('a', ['10.0.0.0/30']));
  cluster.put(ipPool('b', ['10.0.0.2/31']));
  cluster.put(l2Advertisement('ad', ['a', 'missing']));
  return cluster;
}

describe('Controller', () => {
  it('retries a Service waiting on a full pool when another Service moves off an address', async () => {
    const { cluster, controller } = await startWithAddressHeld('first');
    try {
      cluster.put(lbService('waiting'));
      await eventually(() =>
        expect(cluster.events.filter((e) => e.name === 'waiting').map((e) => e.reason)).toContain(
          'AllocationFailed',
        ),
      );
      // The move frees 10.0.0.0 and takes 10.0.1.0: the number of addresses in use does not change.
      cluster.put({
        ...lbService('first', { loadBalancerIP: '10.0.1.0' }),
        status: { loadBalancer: { ingress: [{ ip: '10.0.0.0' }] } },
      } as never);
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'first'))).toEqual(['10.0.1.0']),
      );
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'waiting'))).toEqual(['10.0.0.0']),
      );
    } finally {
      await controller.stop();
    }
  });

  it('allocating for a burst of Services costs one write per Service, echoes included', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('p', ['10.0.0.0/24']));
    const controller = await startController(cluster);
    try {
      const names = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
      for (const n of names) cluster.put(lbService(n));
      await eventually(() =>
        expect(
          names.filter((n) => ingressOf(cluster.get('Service', 'default', n)).length === 1),
        ).toHaveLength(20),
      );
      // Let every echo come back and be synced: none of them may write again.
      await settle();
      await settle();
      const servicePatches = cluster.patches.filter((p) => p.kind === 'Service');
      expect(servicePatches).toHaveLength(20);
      expect(new Set(servicePatches.map((p) => p.name)).size).toBe(20);
      for (const n of names)
        expect(
          cluster.get<KubeObject>('Service', 'default', n)?.metadata?.annotations?.[
            'metallb.io/ip-allocated-from-pool'
          ],
        ).toBe('p');
    } finally {
      await controller.stop();
    }
  });

  it('folds pool status writes in a burst: a few per pool, not one per Service, and the last one is current', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('p', ['10.0.0.0/24']));
    const controller = await startController(cluster);
    try {
      const poolWrites = () =>
        cluster.patches.filter((p) => p.kind === 'IPAddressPool' && p.subresource === 'status');
      await eventually(() => expect(poolWrites().length).toBeGreaterThan(0));
      await settle();
      const before = poolWrites().length;
      // One Service at a time, each addressed before the next arrives (as from a busy API server).
      const started = Date.now();
      for (let i = 0; i < 40; i++) {
        cluster.put(lbService(`svc-${i}`));
        await eventually(() =>
          expect(ingressOf(cluster.get('Service', 'default', `svc-${i}`))).toHaveLength(1),
        );
      }
      const burstMs = Date.now() - started;
      const current = { status: expect.objectContaining({ assignedIPv4: 40, availableIPv4: 216 }) };
      await eventually(() => expect(poolWrites().at(-1)?.patch).toEqual(current));
      await new Promise((r) => setTimeout(r, 2 * POOL_STATUS_FOLD_MS));
      // At most one write per fold window the burst spanned, and the one after it.
      expect(poolWrites().length - before).toBeLessThanOrEqual(Math.ceil(burstMs / POOL_STATUS_FOLD_MS) + 1);
      expect(poolWrites().at(-1)?.patch).toEqual(current);
    } finally {
      await controller.stop();
    }
  });

  it('syncs Services concurrently: their writes overlap and no address is handed out twice', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('p', ['10.0.0.0/27']));
    const names = Array.from({ length: 30 }, (_, i) => `svc-${i}`);
    for (const n of names) cluster.put(lbService(n));
    const kube = cluster.kube;
    const patch = kube.patch.bind(kube);
    let inFlight = 0;
    let maxInFlight = 0;
    kube.patch = (async (...args: Parameters<typeof patch>) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 10));
        return await patch(...args);
      } finally {
        inFlight--;
      }
    }) as typeof kube.patch;
    const controller = await startController(cluster);
    try {
      await eventually(() =>
        expect(
          names.filter((n) => ingressOf(cluster.get('Service', 'default', n)).length === 1),
        ).toHaveLength(30),
      );
      const addresses = names.flatMap((n) => ingressOf(cluster.get('Service', 'default', n)));
      expect(new Set(addresses).size).toBe(30);
      expect(maxInFlight).toBeGreaterThan(1);
    } finally {
      await controller.stop();
    }
  });

  it('folds a burst of pool edits into few config reloads, and serves every pool of it', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('first', ['10.0.0.0/30']));
    const controller = await startController(cluster);
    const update = jest.spyOn(LastGoodConfig.prototype, 'update');
    try {
      for (let i = 1; i <= 20; i++) cluster.put(ipPool(`p${i}`, [`10.0.${i}.0/30`]));
      cluster.put(lbService('last', { annotations: { 'metallb.io/address-pool': 'p20' } }));
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'last'))).toEqual(['10.0.20.0']),
      );
      await settle();
      expect(update.mock.calls.length).toBeGreaterThan(0);
      expect(update.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      update.mockRestore();
      await controller.stop();
    }
  });

  it('config reloads that leave the pools as they were re-sync nothing and do not repeat known errors', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('good', ['10.0.0.0/30']));
    cluster.put(ipPool('broken', ['not-an-address']));
    cluster.put(lbService('web'));
    const { controller, syncs } = await startWithMetrics(cluster);
    try {
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'web'))).toEqual(['10.0.0.0']),
      );
      await settle();
      const invalid = () =>
        cluster.events.filter((e) => e.reason === 'InvalidConfiguration').map((e) => e.name);
      expect(invalid()).toEqual(['broken']);
      const before = await syncs();
      const stats = jest.spyOn(controller.allocator, 'stats');
      cluster.put({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'L2Advertisement',
        metadata: { name: 'l2', namespace: NS },
        spec: {},
      } as never);
      await settle();
      expect(await syncs()).toBe(before);
      expect(invalid()).toEqual(['broken']);
      // A new error is told; the old one still is not repeated.
      cluster.put(ipPool('also-broken', ['10.0.0.0/33']));
      await eventually(() => expect(invalid()).toEqual(['broken', 'also-broken']));
      // A pool change does re-sync every Service.
      cluster.put(ipPool('more', ['10.0.1.0/30']));
      await eventually(async () => expect(await syncs()).toBeGreaterThan(before));
      // ...and a re-sync that changes no assignment computes no stats.
      expect(stats).toHaveBeenCalled();
      // Quiet first: the pool status writes of that reload, their echoes and the reload the
      // recorded last valid spec triggers (up to twice the last reload's time later) also read
      // stats. Two fixed settles raced that reload on a busy machine.
      await eventually(
        async () => {
          stats.mockClear();
          await new Promise((r) => setTimeout(r, 300));
          expect(stats).not.toHaveBeenCalled();
        },
        { timeoutMs: 5000 },
      );
      stats.mockClear();
      cluster.put({
        ...lbService('web'),
        metadata: { name: 'web', namespace: 'default', labels: { x: 'y' } },
      } as never);
      await eventually(async () => expect(await syncs()).toBeGreaterThan(before + 1));
      await settle();
      expect(stats).not.toHaveBeenCalled();
    } finally {
      await controller.stop();
    }
  });

  it('a Namespace label change re-syncs only that namespace; other Namespace edits re-sync nothing', async () => {
    const cluster = new FakeCluster();
    cluster.put(namespace('team-a', { team: 'a' }));
    cluster.put(namespace('team-b', { team: 'b' }));
    cluster.put(ipPool('p', ['10.0.0.0/29']));
    for (const [name, ns] of [
      ['a1', 'team-a'],
      ['a2', 'team-a'],
      ['b1', 'team-b'],
    ] as const)
      cluster.put(lbService(name, { namespace: ns }));
    const { controller, syncs } = await startWithMetrics(cluster);
    try {
      await eventually(() => expect(ingressOf(cluster.get('Service', 'team-b', 'b1'))).toHaveLength(1));
      await settle();
      const before = await syncs();
      cluster.put(namespace('team-a', { team: 'a' }, { note: 'only an annotation' }));
      await settle();
      expect(await syncs()).toBe(before);
      cluster.put(namespace('team-a', { team: 'a', tier: 'gold' }));
      await settle();
      expect(await syncs()).toBe(before + 2);
    } finally {
      await controller.stop();
    }
  });

  it('a controller restarted while a pool is invalid keeps serving the pool from its recorded last valid spec', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('p', ['10.0.0.0/30']));
    cluster.put(lbService('web'));
    const first = await startController(cluster);
    const recorded = () =>
      cluster.get<{ metadata: { annotations?: Record<string, string> } } & KubeObject>(
        'IPAddressPool',
        NS,
        'p',
      )?.metadata.annotations?.[LAST_VALID_SPEC_ANNOTATION];
    try {
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'web'))).toEqual(['10.0.0.0']),
      );
      await eventually(() =>
        expect(JSON.parse(recorded() ?? 'null')).toEqual({ addresses: ['10.0.0.0/30'] }),
      );
    } finally {
      await first.stop();
    }
    cluster.put(ipPool('p', ['10.0.0.300']));
    const second = await startController(cluster);
    try {
      await eventually(() =>
        expect(cluster.events.filter((e) => e.reason === 'InvalidConfiguration').map((e) => e.name)).toEqual([
          'p',
        ]),
      );
      await settle();
      expect(ingressOf(cluster.get('Service', 'default', 'web'))).toEqual(['10.0.0.0']);
      expect(cluster.events.filter((e) => e.name === 'web').map((e) => e.reason)).toEqual(['IPAllocated']);
      // The invalid version is not recorded over the valid one.
      expect(JSON.parse(recorded() ?? 'null')).toEqual({ addresses: ['10.0.0.0/30'] });
      await eventually(() =>
        expect(
          cluster
            .get<KubeObject & { status?: { conditions?: Condition[] } }>('IPAddressPool', NS, 'p')
            ?.status?.conditions?.find((c) => c.type === 'Valid'),
        ).toMatchObject({ status: 'False', reason: 'ServingLastValidSpec' }),
      );
    } finally {
      await second.stop();
    }
  });

  it('each pool and advertisement carries a Valid condition, written once; pool events reference the object', async () => {
    const cluster = withInvalidPoolAndAdvertisement();
    const controller = await startController(cluster);
    const valid = (kind: string, name: string) =>
      cluster
        .get<KubeObject & { status?: { conditions?: Condition[] } }>(kind, NS, name)
        ?.status?.conditions?.find((c) => c.type === 'Valid');
    try {
      await eventually(() => {
        expect(valid('IPAddressPool', 'a')).toMatchObject({ status: 'True', reason: 'Serving' });
        expect(valid('IPAddressPool', 'b')).toMatchObject({
          status: 'False',
          reason: 'InvalidConfiguration',
          message: expect.stringContaining('IPAddressPool metallb-system/b: spec.addresses'),
        });
        expect(valid('L2Advertisement', 'ad')).toMatchObject({
          status: 'False',
          reason: 'ServingValidPart',
          message: expect.stringContaining('"missing": no such IPAddressPool'),
        });
      });
      const pool = cluster.get<KubeObject>('IPAddressPool', NS, 'b')!;
      const warning = cluster.events.find((e) => e.reason === 'InvalidConfiguration' && e.name === 'b');
      expect(warning?.ref).toEqual({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        namespace: NS,
        name: 'b',
        uid: pool.metadata!.uid,
      });
      expect(pool.metadata!.uid).toBeTruthy();
      await settle();
      const statusWrites = () => cluster.patches.filter((p) => p.subresource === 'status').length;
      const writes = statusWrites();
      // The echoes of its own writes change nothing: no second write.
      await settle();
      expect(statusWrites()).toBe(writes);
      // Fixing the pool flips it to True.
      cluster.put(ipPool('b', ['10.0.1.0/31']));
      await eventually(() => expect(valid('IPAddressPool', 'b')).toMatchObject({ status: 'True' }));
    } finally {
      await controller.stop();
    }
  });

  it("a restarted controller does not repeat an error the object's Valid condition already tells", async () => {
    const cluster = withInvalidPoolAndAdvertisement();
    const invalid = () =>
      cluster.events
        .filter((e) => e.reason === 'InvalidConfiguration')
        .map((e) => e.name)
        .sort();
    const valid = (name: string) =>
      cluster
        .get<KubeObject & { status?: { conditions?: Condition[] } }>('L2Advertisement', NS, name)
        ?.status?.conditions?.find((c) => c.type === 'Valid');
    const first = await startController(cluster);
    try {
      await eventually(() => expect(valid('ad')).toMatchObject({ status: 'False' }));
      expect(invalid()).toEqual(['ad', 'b']);
    } finally {
      await first.stop();
    }
    const second = await startController(cluster);
    try {
      await settle();
      expect(invalid()).toEqual(['ad', 'b']);
      // A new error on the object is not in its condition yet: it is told.
      cluster.put(l2Advertisement('ad', ['a', 'other']));
      await eventually(() => expect(invalid()).toEqual(['ad', 'ad', 'b']));
    } finally {
      await second.stop();
    }
  });

  it('without RBAC to annotate pool objects it stops trying and keeps writing status', async () => {
    const cluster = new FakeCluster();
    cluster.forbidden.add('IPAddressPool');
    cluster.put(ipPool('p', ['10.0.0.0/30']));
    cluster.put(lbService('web'));
    const controller = await startController(cluster);
    try {
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'web'))).toEqual(['10.0.0.0']),
      );
      await eventually(() =>
        expect(cluster.patches.filter((p) => p.kind === 'IPAddressPool').at(-1)?.patch).toEqual({
          status: expect.objectContaining({
            assignedIPv4: 1,
            availableIPv4: 3,
            assignedIPv6: 0,
            availableIPv6: 0,
          }),
        }),
      );
      cluster.put(lbService('api'));
      await eventually(() =>
        expect(cluster.patches.filter((p) => p.kind === 'IPAddressPool').at(-1)?.patch).toEqual({
          status: expect.objectContaining({
            assignedIPv4: 2,
            availableIPv4: 2,
            assignedIPv6: 0,
            availableIPv6: 0,
          }),
        }),
      );
      await settle();
      expect(cluster.refused).toBe(1);
    } finally {
      await controller.stop();
    }
  });
});
