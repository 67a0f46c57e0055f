import { describe, expect, it } from '@jest/globals';
import type { Service } from '@metallb-ts/k8s-runtime';
import type { KubeObject, ObjectRef, PatchOptions } from '@metallb-ts/k8s-runtime';
import { annotationsNotStored, applyOutcome, echoVersions, planServiceWrite } from '../src/apply-outcome.js';
import { FakeCluster, lbService } from './fake-cluster.js';

const withAnnotations = (annotations: Record<string, string>): Service =>
  lbService('web', { annotations }) as Service;

describe('applyOutcome', () => {
  it('drops the legacy ip-allocated-from-pool annotation in the same patch that writes the new one', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({ 'metallb.universe.tf/ip-allocated-from-pool': 'old-pool' });
    cluster.put(svc);
    const { writes } = await applyOutcome(cluster.kube, cluster.recorder, svc, {
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
    expect((await applyOutcome(kube, cluster.recorder, svc, { pool: 'p', events: [] })).writes).toBe(1);
    const after = cluster.get<Service>('Service', 'default', 'web');
    expect(after?.metadata?.annotations).toEqual({ 'metallb.io/ip-allocated-from-pool': 'p' });
    expect((await applyOutcome(kube, cluster.recorder, after, { pool: 'p', events: [] })).writes).toBe(0);
  });

  it('clearing the pool (null) clears both keys', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({ 'metallb.universe.tf/ip-allocated-from-pool': 'p' });
    cluster.put(svc);
    await applyOutcome(cluster.kube, cluster.recorder, svc, { pool: null, events: [] });
    expect(cluster.get<Service>('Service', 'default', 'web')?.metadata?.annotations ?? {}).toEqual({});
  });

  it('an allocation is one request: status and annotation in one patch to the status subresource', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({});
    cluster.put(svc);
    const applied = await applyOutcome(cluster.kube, cluster.recorder, svc, {
      ingress: ['192.0.2.10'],
      pool: 'p',
      events: [],
    });
    expect(applied.writes).toBe(1);
    expect(cluster.patches).toEqual([
      expect.objectContaining({
        subresource: 'status',
        patch: {
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
          metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': 'p' } },
        },
      }),
    ]);
    const stored = cluster.get<Service>('Service', 'default', 'web');
    expect(stored?.metadata?.annotations).toEqual({ 'metallb.io/ip-allocated-from-pool': 'p' });
    expect(applied.versions).toEqual([stored?.metadata?.resourceVersion]);
  });

  it('writes the annotation to the main resource when the status subresource did not store it', async () => {
    const cluster = new FakeCluster();
    const svc = withAnnotations({});
    cluster.put(svc);
    // An API server whose status strategy resets metadata: the status patch keeps only the status.
    const base = cluster.kube;
    const kube = {
      patch: async <T extends KubeObject>(ref: ObjectRef, patch: unknown, opts: PatchOptions): Promise<T> => {
        const p = patch as { metadata?: unknown };
        if (opts.subresource === 'status') return base.patch<T>(ref, { ...p, metadata: undefined }, opts);
        return base.patch<T>(ref, patch, opts);
      },
    };
    const applied = await applyOutcome(kube, cluster.recorder, svc, {
      ingress: ['192.0.2.10'],
      pool: 'p',
      events: [],
    });
    expect(applied.writes).toBe(2);
    expect(cluster.patches.map((p) => p.subresource)).toEqual(['status', undefined]);
    expect(cluster.patches[1]?.patch).toEqual({
      metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': 'p' } },
    });
    const stored = cluster.get<Service>('Service', 'default', 'web');
    expect(stored?.metadata?.annotations).toEqual({ 'metallb.io/ip-allocated-from-pool': 'p' });
    expect(stored?.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10' }]);
    expect(applied.versions).toHaveLength(2);
    expect(applied.versions[1]).toBe(stored?.metadata?.resourceVersion);
  });
});

describe('planServiceWrite', () => {
  const held = (ip: string, pool: string): Service =>
    ({
      ...withAnnotations({ 'metallb.io/ip-allocated-from-pool': pool }),
      status: { loadBalancer: { ingress: [{ ip }] } },
    }) as Service;

  it('plans nothing for a steady state', () => {
    expect(
      planServiceWrite(held('192.0.2.1', 'p'), { ingress: ['192.0.2.1'], pool: 'p', events: [] }),
    ).toBeUndefined();
  });

  it('an annotation-only change goes to the main resource', () => {
    expect(
      planServiceWrite(held('192.0.2.1', 'p'), { ingress: ['192.0.2.1'], pool: 'q', events: [] }),
    ).toEqual({
      patch: { metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': 'q' } } },
      subresource: undefined,
    });
  });

  it('a status-only change goes to the status subresource without metadata', () => {
    expect(
      planServiceWrite(held('192.0.2.1', 'p'), { ingress: ['192.0.2.2'], pool: 'p', events: [] }),
    ).toEqual({
      patch: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } } },
      subresource: 'status',
    });
  });

  it('clearing both is one status patch that removes the annotation', () => {
    expect(planServiceWrite(held('192.0.2.1', 'p'), { ingress: [], pool: null, events: [] })).toEqual({
      patch: {
        status: { loadBalancer: { ingress: [] } },
        metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': null } },
      },
      subresource: 'status',
    });
  });
});

describe('annotationsNotStored', () => {
  const write = {
    patch: { metadata: { annotations: { a: 'x', gone: null } } },
    subresource: 'status' as const,
  };
  it('is undefined when the stored object carries the patch', () => {
    expect(annotationsNotStored(write, withAnnotations({ a: 'x', other: 'y' }))).toBeUndefined();
  });
  it('names what the server did not store: a missing value and a key that should be gone', () => {
    expect(annotationsNotStored(write, withAnnotations({ gone: 'still' }))).toEqual({ a: 'x', gone: null });
  });
});

describe('echoVersions', () => {
  it('skips the computed-against and intermediate versions, never the final one', () => {
    expect([...echoVersions('5', ['6', '7'])]).toEqual(['5', '6']);
    expect([...echoVersions('5', ['6'])]).toEqual(['5']);
  });
});
