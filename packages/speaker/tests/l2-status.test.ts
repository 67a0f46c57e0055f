import { describe, expect, it } from '@jest/globals';
import { desiredL2Status, l2StatusName, planL2Statuses } from '../src/l2-status.js';

describe('planL2Statuses', () => {
  const ns = 'metallb-system';
  it('creates what is announced, updates what changed, deletes what is no longer ours', () => {
    const stale = desiredL2Status(ns, 'node-1', { service: 'demo/gone', interfaces: ['data0'] });
    const changed = desiredL2Status(ns, 'node-1', { service: 'demo/b', interfaces: ['data0'] });
    const same = desiredL2Status(ns, 'node-1', { service: 'demo/c', interfaces: ['data0'] });
    const plan = planL2Statuses(
      ns,
      'node-1',
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
    const killed = desiredL2Status(ns, 'node-3', { service: 'demo/a', interfaces: ['data0'] });
    const elsewhere = desiredL2Status(ns, 'node-2', { service: 'demo/b', interfaces: ['data0'] });
    const orphan = desiredL2Status(ns, 'node-2', { service: 'demo/deleted', interfaces: ['data0'] });
    const plan = planL2Statuses(
      ns,
      'node-1',
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
    const o = desiredL2Status(ns, 'node-3', { service: 'web/front', interfaces: ['eth0'] });
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
    const mine = desiredL2Status(ns, 'node-1', { service: 'demo/a', interfaces: ['data0'] });
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
    const plan = planL2Statuses(ns, 'node-1', [{ service: 'demo/a', interfaces: ['data0'] }], [sorted]);
    expect(plan).toEqual({ create: [], update: [], delete: [] });
  });
});

describe('planL2Statuses cleanup of objects nobody else removes', () => {
  const ns = 'metallb-system';
  const deadNodes = desiredL2Status(ns, 'node-3', { service: 'demo/a', interfaces: ['data0'] });
  const noWinner = desiredL2Status(ns, 'node-2', { service: 'demo/b', interfaces: ['data0'] });
  const healthy = desiredL2Status(ns, 'node-2', { service: 'demo/c', interfaces: ['data0'] });
  const have = [deadNodes, noWinner, healthy];
  const cleanup = { alive: new Set(['node-1', 'node-2']), hasWinner: (s: string) => s !== 'demo/b' };

  it("deletes a dead node's objects and those of services no node announces, keeps a live winner's", () => {
    const plan = planL2Statuses(ns, 'node-1', [], have, () => true, cleanup);
    expect(plan.delete.sort()).toEqual([deadNodes.metadata.name, noWinner.metadata.name].sort());
  });

  it('without cleanup (fenced or holding) leaves other nodes alone', () => {
    expect(planL2Statuses(ns, 'node-1', [], have, () => true).delete).toEqual([]);
  });
});
