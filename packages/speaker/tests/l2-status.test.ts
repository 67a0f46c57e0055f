import { describe, expect, it } from '@jest/globals';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import type { ServiceL2Status } from '@metallb-ts/api';
import { desiredL2Status, l2StatusName, planL2Statuses, withdrawalGrace } from '../src/l2-status.js';
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
    const want = { announced: [a, { service: 'demo/b', interfaces: ['data1'] }] };
    expect([...(await sync.sync(want, 0)).claimed].sort()).toEqual(['demo/a', 'demo/b']);
    const owners = Object.fromEntries(
      list().map((o) => [o.metadata.labels?.['metallb.io/service-name'], o.metadata.ownerReferences]),
    );
    expect(owners).toEqual({ a: [pod], b: [pod] });
    expect(kube.find<ServiceL2Status>('ServiceL2Status', ns, old.metadata.name)?.status).toEqual(old.status);
    // A second pass writes nothing.
    kube.calls = [];
    expect(await sync.sync(want, 1)).toEqual({ claimed: [] });
    expect(kube.calls).toEqual([]);
  });
});

describe('a withdrawal is written only once it has lasted the grace (no churn on short fences)', () => {
  const ns = 'metallb-system';
  const writer = { namespace: ns, node: 'node-1' };
  const a = { service: 'demo/a', interfaces: ['data0'] };
  const b = { service: 'demo/b', interfaces: ['data0'] };
  const mineA = desiredL2Status(writer, a);
  const mineB = desiredL2Status(writer, b);
  const exists = () => true;

  it('keeps a just-withdrawn object, counts its grace from the first pass that saw it, then lets it go', () => {
    const first = withdrawalGrace('node-1', [b], [mineA, mineB], exists, new Map(), 1000, 500);
    expect(first).toEqual({
      keep: new Set([mineA.metadata.name]),
      withdrawnSince: new Map([['demo/a', 1000]]),
      recheckAt: 1500,
    });
    const later = withdrawalGrace('node-1', [b], [mineA, mineB], exists, first.withdrawnSince, 1400, 500);
    expect(later.keep).toEqual(new Set([mineA.metadata.name]));
    expect(later.recheckAt).toBe(1500);
    const over = withdrawalGrace('node-1', [b], [mineA, mineB], exists, later.withdrawnSince, 1500, 500);
    expect(over).toEqual({ keep: new Set(), withdrawnSince: new Map() });
  });

  it('an announcement back within the grace forgets the withdrawal: the next one gets a full grace', () => {
    const out = withdrawalGrace('node-1', [], [mineA], exists, new Map(), 0, 500);
    const back = withdrawalGrace('node-1', [a], [mineA], exists, out.withdrawnSince, 100, 500);
    expect(back).toEqual({ keep: new Set(), withdrawnSince: new Map() });
    const again = withdrawalGrace('node-1', [], [mineA], exists, back.withdrawnSince, 3000, 500);
    expect(again.recheckAt).toBe(3500);
  });

  it("keeps nothing for a deleted Service, nor another node's object", () => {
    const theirs = desiredL2Status({ namespace: ns, node: 'node-2' }, b);
    const g = withdrawalGrace('node-1', [], [mineA, theirs], (s) => s !== 'demo/a', new Map(), 0, 500);
    expect(g).toEqual({ keep: new Set(), withdrawnSince: new Map() });
  });

  it('the sync: a fence shorter than the grace writes nothing; a longer one deletes after the grace', async () => {
    const kube = new FakeKube();
    const list = () =>
      [...kube.objects.values()].filter((o) => o.kind === 'ServiceL2Status') as ServiceL2Status[];
    const sync = new L2StatusSync(kube, writer, { list }, exists, 1000);
    const alive = { announced: [a], cleanup: { alive: new Set(['node-1']), hasWinner: () => true } };
    const fenced = { announced: [] };
    await sync.sync(alive, 0);
    expect(list().map((o) => o.metadata.name)).toEqual([mineA.metadata.name]);
    kube.calls = [];

    // 90 ms fenced, then alive again: the object was never touched.
    expect(await sync.sync(fenced, 10_000)).toEqual({ claimed: [], recheckAt: 11_000 });
    expect(await sync.sync(alive, 10_090)).toEqual({ claimed: [] });
    expect(kube.calls).toEqual([]);

    // Fenced for good: kept until the grace ends, then deleted.
    await sync.sync(fenced, 20_000);
    expect(await sync.sync(fenced, 20_999)).toEqual({ claimed: [], recheckAt: 21_000 });
    expect(kube.calls).toEqual([]);
    expect(await sync.sync(fenced, 21_000)).toEqual({ claimed: [] });
    expect(kube.calls).toEqual([`delete ServiceL2Status ${mineA.metadata.name}`]);
    expect(list()).toEqual([]);
  });

  it("a kept object does not make this node the owner: another node's object for the service stays", async () => {
    const kube = new FakeKube();
    const successor = desiredL2Status({ namespace: ns, node: 'node-2' }, a);
    kube.put(mineA);
    kube.put(successor);
    const list = () =>
      [...kube.objects.values()].filter((o) => o.kind === 'ServiceL2Status') as ServiceL2Status[];
    const sync = new L2StatusSync(kube, writer, { list }, exists, 1000);
    await sync.sync({ announced: [] }, 0);
    expect(kube.calls).toEqual([]);
    expect(
      list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([mineA.metadata.name, successor.metadata.name].sort());
  });

  it('a planned leave (clear) deletes at once, grace or not', async () => {
    const kube = new FakeKube();
    kube.put(mineA);
    const list = () =>
      [...kube.objects.values()].filter((o) => o.kind === 'ServiceL2Status') as ServiceL2Status[];
    const sync = new L2StatusSync(kube, writer, { list }, exists, 60_000);
    await sync.sync({ announced: [] }, 0);
    await sync.clear();
    expect(list()).toEqual([]);
  });
});
