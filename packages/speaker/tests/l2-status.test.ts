import { describe, expect, it } from '@jest/globals';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import type { ServiceL2Status } from '@metallb-ts/api';
import { desiredL2Status, l2StatusName, planL2Statuses } from '../src/l2-status.js';
import { L2StatusSync } from '../src/l2-status-writer.js';

describe('planL2Statuses', () => {
  const ns = 'metallb-system';
  it('creates what is announced, updates what changed, deletes what is no longer ours', () => {
    const stale = desiredL2Status(
      { namespace: ns, node: 'node-1' },
      { service: 'demo/gone', interfaces: ['data0'] },
    );
    const changed = desiredL2Status(
      { namespace: ns, node: 'node-1' },
      { service: 'demo/b', interfaces: ['data0'] },
    );
    const same = desiredL2Status(
      { namespace: ns, node: 'node-1' },
      { service: 'demo/c', interfaces: ['data0'] },
    );
    const plan = planL2Statuses(
      { namespace: ns, node: 'node-1' },
      [
        { service: 'demo/a', interfaces: ['data0'] },
        { service: 'demo/b', interfaces: ['data0', 'data1'] },
        { service: 'demo/c', interfaces: ['data0'] },
      ],
      [stale, changed, same],
    );
    expect(plan.create.map((o) => o.status?.serviceName)).toEqual(['a']);
    expect(plan.update.map((o) => o.status?.interfaces)).toEqual([[{ name: 'data0' }, { name: 'data1' }]]);
    expect(plan.delete).toEqual([stale.metadata.name]);
  });

  it("removes other nodes' objects for services it announces, and objects of deleted services", () => {
    const killed = desiredL2Status(
      { namespace: ns, node: 'node-3' },
      { service: 'demo/a', interfaces: ['data0'] },
    );
    const elsewhere = desiredL2Status(
      { namespace: ns, node: 'node-2' },
      { service: 'demo/b', interfaces: ['data0'] },
    );
    const orphan = desiredL2Status(
      { namespace: ns, node: 'node-2' },
      { service: 'demo/deleted', interfaces: ['data0'] },
    );
    const plan = planL2Statuses(
      { namespace: ns, node: 'node-1' },
      [{ service: 'demo/a', interfaces: ['data0'] }],
      [killed, elsewhere, orphan],
      (s) => s !== 'demo/deleted',
    );
    expect(plan.create.map((o) => o.metadata.name)).toEqual([l2StatusName('node-1', 'demo/a')]);
    expect(plan.delete.sort()).toEqual([killed.metadata.name, orphan.metadata.name].sort());
  });

  it('names are stable per (node, service) and differ across nodes', () => {
    expect(l2StatusName('node-1', 'demo/a')).toBe(l2StatusName('node-1', 'demo/a'));
    expect(l2StatusName('node-1', 'demo/a')).not.toBe(l2StatusName('node-2', 'demo/a'));
    expect(l2StatusName('node-1', 'demo/a')).toMatch(/^l2-[0-9a-f]{20}$/);
  });

  it('labels and status carry node and service as MetalLB writes them', () => {
    const o = desiredL2Status(
      { namespace: ns, node: 'node-3' },
      { service: 'web/front', interfaces: ['eth0'] },
    );
    expect(o.metadata.labels).toEqual({
      'metallb.io/node': 'node-3',
      'metallb.io/service-name': 'front',
      'metallb.io/service-namespace': 'web',
    });
    expect(o.status).toEqual({
      node: 'node-3',
      serviceName: 'front',
      serviceNamespace: 'web',
      interfaces: [{ name: 'eth0' }],
    });
  });
});

describe('planL2Statuses compares structure, not key order', () => {
  it('an object read back with its keys sorted is not rewritten', () => {
    const ns = 'metallb-system';
    const mine = desiredL2Status(
      { namespace: ns, node: 'node-1' },
      { service: 'demo/a', interfaces: ['data0'] },
    );
    const status = mine.status!;
    const sorted = {
      ...mine,
      status: {
        interfaces: status.interfaces,
        node: status.node,
        serviceName: status.serviceName,
        serviceNamespace: status.serviceNamespace,
      },
    };
    expect(Object.keys(sorted.status)).not.toEqual(Object.keys(status));
    const plan = planL2Statuses(
      { namespace: ns, node: 'node-1' },
      [{ service: 'demo/a', interfaces: ['data0'] }],
      [sorted],
    );
    expect(plan).toEqual({ create: [], update: [], reown: [], delete: [] });
  });
});

describe('planL2Statuses cleanup of objects nobody else removes', () => {
  const ns = 'metallb-system';
  const deadNodes = desiredL2Status(
    { namespace: ns, node: 'node-3' },
    { service: 'demo/a', interfaces: ['data0'] },
  );
  const noWinner = desiredL2Status(
    { namespace: ns, node: 'node-2' },
    { service: 'demo/b', interfaces: ['data0'] },
  );
  const healthy = desiredL2Status(
    { namespace: ns, node: 'node-2' },
    { service: 'demo/c', interfaces: ['data0'] },
  );
  const have = [deadNodes, noWinner, healthy];
  const cleanup = { alive: new Set(['node-1', 'node-2']), hasWinner: (s: string) => s !== 'demo/b' };

  it("deletes a dead node's objects and those of services no node announces, keeps a live winner's", () => {
    const plan = planL2Statuses({ namespace: ns, node: 'node-1' }, [], have, () => true, cleanup);
    expect(plan.delete.sort()).toEqual([deadNodes.metadata.name, noWinner.metadata.name].sort());
  });

  it('without cleanup (fenced or holding) leaves other nodes alone', () => {
    expect(planL2Statuses({ namespace: ns, node: 'node-1' }, [], have, () => true).delete).toEqual([]);
  });
});

describe("ServiceL2Status objects are owned by the speaker's Pod (gone with the Pod, as in MetalLB)", () => {
  const ns = 'metallb-system';
  const pod = { apiVersion: 'v1', kind: 'Pod', name: 'speaker-x7k2p', uid: 'u-pod-new' };
  const previous = { ...pod, name: 'speaker-q9z4m', uid: 'u-pod-old' };
  const writer = { namespace: ns, node: 'node-1', owner: pod };
  const a = { service: 'demo/a', interfaces: ['data0'] };

  it('a new object carries the ownerReference to the Pod', () => {
    const plan = planL2Statuses(writer, [a], []);
    expect(plan.create.map((o) => o.metadata.ownerReferences)).toEqual([[pod]]);
  });

  it("re-owns this node's objects a previous Pod wrote, and only those still wanted", () => {
    const old = desiredL2Status({ ...writer, owner: previous }, a);
    const gone = desiredL2Status(
      { ...writer, owner: previous },
      { service: 'demo/gone', interfaces: ['data0'] },
    );
    const unowned = desiredL2Status(
      { namespace: ns, node: 'node-1' },
      { service: 'demo/b', interfaces: ['data0'] },
    );
    const other = desiredL2Status(
      { namespace: ns, node: 'node-2', owner: previous },
      { service: 'demo/c', interfaces: ['x'] },
    );
    const plan = planL2Statuses(
      writer,
      [a, { service: 'demo/b', interfaces: ['data0'] }],
      [old, gone, unowned, other],
    );
    expect(plan.reown.map((o) => [o.metadata.name, o.metadata.ownerReferences])).toEqual([
      [old.metadata.name, [pod]],
      [unowned.metadata.name, [pod]],
    ]);
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([gone.metadata.name]);
    // Once owned by this Pod, nothing to do.
    const owned = desiredL2Status(writer, a);
    expect(planL2Statuses(writer, [a], [owned])).toEqual({ create: [], update: [], reown: [], delete: [] });
  });

  it('without a Pod (a process) writes no owner and re-owns nothing', () => {
    const old = desiredL2Status({ ...writer, owner: previous }, a);
    const plan = planL2Statuses(
      { namespace: ns, node: 'node-1' },
      [a, { service: 'demo/b', interfaces: [] }],
      [old],
    );
    expect(plan.reown).toEqual([]);
    expect(plan.create[0]?.metadata).not.toHaveProperty('ownerReferences');
  });

  it('the sync writes them so against the API: created owned, old ones handed over', async () => {
    const kube = new FakeKube();
    const old = desiredL2Status({ ...writer, owner: previous }, a);
    kube.put(old);
    const list = () =>
      [...kube.objects.values()].filter((o) => o.kind === 'ServiceL2Status') as ServiceL2Status[];
    const sync = new L2StatusSync(kube, writer, { list }, () => true);
    sync.set({ announced: [a, { service: 'demo/b', interfaces: ['data1'] }] });
    await sync.sync();
    const owners = Object.fromEntries(
      list().map((o) => [o.metadata.labels?.['metallb.io/service-name'], o.metadata.ownerReferences]),
    );
    expect(owners).toEqual({ a: [pod], b: [pod] });
    expect(kube.find<ServiceL2Status>('ServiceL2Status', ns, old.metadata.name)?.status).toEqual(old.status);
    // A second pass writes nothing.
    kube.calls = [];
    await sync.sync();
    expect(kube.calls).toEqual([]);
  });
});
