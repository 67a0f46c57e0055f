import { describe, expect, it } from '@jest/globals';
import { isConflict, KubeError } from '../src/kube-error.js';
import { FakeKube } from '../src/testing/index.js';
import type { KubeObject, ManagedFieldsEntry } from '../src/types.js';

type Deployment = KubeObject & {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

const deployment = (spec: Record<string, unknown>, extra: Partial<Deployment> = {}): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'controller', namespace: 'metallb-system' },
  spec,
  ...extra,
});
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'metallb-system', name: 'controller' };
const stored = (api: FakeKube) => api.find<Deployment>('Deployment', 'metallb-system', 'controller')!;
const owners = (api: FakeKube): Array<Pick<ManagedFieldsEntry, 'manager' | 'subresource' | 'fieldsV1'>> =>
  (stored(api).metadata?.managedFields ?? []).map(({ manager, subresource, fieldsV1 }) => ({
    manager,
    subresource,
    fieldsV1,
  }));
const rejection = async (p: Promise<unknown>): Promise<KubeError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof KubeError)) throw new Error(`expected a KubeError, got ${String(e)}`);
  return e;
};

describe('FakeKube server-side apply', () => {
  it('creates a missing object, owned by the applier, generation 1, and tells watchers', async () => {
    const api = new FakeKube();
    const seen: string[] = [];
    const abort = new AbortController();
    void api.watch(
      ref,
      { resourceVersion: String(api.rv) },
      (t, o) => seen.push(`${t} ${o.metadata?.name}`),
      abort.signal,
    );
    const out = await api.apply(deployment({ replicas: 1, template: { image: 'a' } }), {
      fieldManager: 'op',
    });
    abort.abort();
    expect(out.metadata?.generation).toBe(1);
    expect(out.metadata?.uid).toBeDefined();
    expect(stored(api).spec).toEqual({ replicas: 1, template: { image: 'a' } });
    expect(owners(api)).toEqual([
      {
        manager: 'op',
        subresource: undefined,
        fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:image': {} } } },
      },
    ]);
    expect(seen).toEqual(['ADDED controller']);
  });

  it('merges with fields of other managers and keeps theirs', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ replicas: 1 }), { fieldManager: 'op' });
    await api.apply(deployment({ paused: true }), { fieldManager: 'kubectl' });
    expect(stored(api).spec).toEqual({ replicas: 1, paused: true });
    expect(owners(api).map((o) => o.manager)).toEqual(['kubectl', 'op']);
  });

  it('refuses a different value for a field another manager owns, naming the field and the manager', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ replicas: 1 }), { fieldManager: 'op' });
    const rv = stored(api).metadata?.resourceVersion;
    const e = await rejection(api.apply(deployment({ replicas: 3 }), { fieldManager: 'kubectl' }));
    expect(e.status).toBe(409);
    expect(isConflict(e)).toBe(true);
    expect(e.message).toContain('.spec.replicas');
    expect(e.message).toContain('"op"');
    expect(stored(api).spec).toEqual({ replicas: 1 });
    expect(stored(api).metadata?.resourceVersion).toBe(rv);
  });

  it('shares a field applied with the same value; it stays while one owner still applies it', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ replicas: 1, paused: false }), { fieldManager: 'op' });
    await api.apply(deployment({ replicas: 1 }), { fieldManager: 'kubectl' });
    await api.apply(deployment({ paused: false }), { fieldManager: 'op' });
    expect(stored(api).spec).toEqual({ replicas: 1, paused: false });
    await api.apply(deployment({}), { fieldManager: 'kubectl' });
    expect(stored(api).spec).toEqual({ paused: false });
  });

  it('with force takes the field over: the old owner loses it and now conflicts itself', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ replicas: 1, paused: false }), { fieldManager: 'kubectl' });
    await api.apply(deployment({ replicas: 2 }), { fieldManager: 'op', force: true });
    expect(stored(api).spec).toEqual({ replicas: 2, paused: false });
    expect(owners(api)).toEqual([
      { manager: 'kubectl', subresource: undefined, fieldsV1: { 'f:spec': { 'f:paused': {} } } },
      { manager: 'op', subresource: undefined, fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    ]);
    const e = await rejection(
      api.apply(deployment({ replicas: 1, paused: false }), { fieldManager: 'kubectl' }),
    );
    expect(e.message).toContain('conflict with "op": .spec.replicas');
  });

  it('removes fields the manager applied before and no longer applies, and parents left empty', async () => {
    const api = new FakeKube();
    await api.apply(
      deployment(
        { replicas: 1, strategy: { rollingUpdate: { maxUnavailable: 1 } } },
        {
          metadata: { name: 'controller', namespace: 'metallb-system', labels: { a: '1', b: '2' } },
        },
      ),
      { fieldManager: 'op' },
    );
    await api.apply(
      deployment(
        { replicas: 1 },
        { metadata: { name: 'controller', namespace: 'metallb-system', labels: { a: '1' } } },
      ),
      { fieldManager: 'op' },
    );
    expect(stored(api).spec).toEqual({ replicas: 1 });
    expect(stored(api).metadata?.labels).toEqual({ a: '1' });
  });

  it('replaces lists whole (lists are atomic here)', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ args: ['--a', '--b'] }), { fieldManager: 'op' });
    await api.apply(deployment({ args: ['--c'] }), { fieldManager: 'op' });
    expect(stored(api).spec).toEqual({ args: ['--c'] });
  });

  it('bumps metadata.generation when the spec changes, not for labels, and not for a no-op', async () => {
    const api = new FakeKube();
    const meta = (labels: Record<string, string>) => ({
      metadata: { name: 'controller', namespace: 'metallb-system', labels },
    });
    await api.apply(deployment({ replicas: 1 }, meta({ a: '1' })), { fieldManager: 'op' });
    await api.apply(deployment({ replicas: 1 }, meta({ a: '2' })), { fieldManager: 'op' });
    expect(stored(api).metadata?.generation).toBe(1);
    await api.apply(deployment({ replicas: 2 }, meta({ a: '2' })), { fieldManager: 'op' });
    expect(stored(api).metadata?.generation).toBe(2);
    const rv = stored(api).metadata?.resourceVersion;
    const events = api.events.length;
    const same = await api.apply(deployment({ replicas: 2 }, meta({ a: '2' })), { fieldManager: 'op' });
    expect(same.metadata?.resourceVersion).toBe(rv);
    expect(api.events.length).toBe(events);
    expect(stored(api).metadata?.generation).toBe(2);
  });

  it('applies status only through the status subresource, and only status there', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ replicas: 1 }, { status: { readyReplicas: 9 } }), { fieldManager: 'op' });
    expect(stored(api).status).toBeUndefined();
    await api.apply(deployment({ replicas: 5 }, { status: { readyReplicas: 1 } }), {
      fieldManager: 'kcm',
      subresource: 'status',
    });
    expect(stored(api).spec).toEqual({ replicas: 1 });
    expect(stored(api).status).toEqual({ readyReplicas: 1 });
    expect(stored(api).metadata?.generation).toBe(1);
    expect(owners(api)).toContainEqual({
      manager: 'kcm',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:readyReplicas': {} } },
    });
    // A later main-resource apply by the same manager does not drop its status fields.
    await api.apply(deployment({ replicas: 1 }), { fieldManager: 'kcm' });
    expect(stored(api).status).toEqual({ readyReplicas: 1 });
  });

  it('is the same through patch(type apply); needs a field manager; status of a missing object is 404', async () => {
    const api = new FakeKube();
    await api.patch(ref, deployment({ replicas: 1 }), { type: 'apply', fieldManager: 'op' });
    expect(stored(api).spec).toEqual({ replicas: 1 });
    const e = await rejection(
      api.patch(ref, deployment({ replicas: 2 }), { type: 'apply', fieldManager: 'x' }),
    );
    expect(e.message).toContain('.spec.replicas');
    await api.patch(ref, deployment({ replicas: 2 }), { type: 'apply', fieldManager: 'x', force: true });
    expect(stored(api).spec).toEqual({ replicas: 2 });
    expect((await rejection(api.patch(ref, deployment({}), { type: 'apply' }))).status).toBe(400);
    const missing = { ...ref, name: 'speaker' };
    const nf = await rejection(
      api.patch(missing, { status: { a: 1 } }, { type: 'apply', fieldManager: 'op', subresource: 'status' }),
    );
    expect(nf.status).toBe(404);
  });

  it('refuses an apply that carries a stale resourceVersion', async () => {
    const api = new FakeKube();
    await api.apply(deployment({ replicas: 1 }), { fieldManager: 'op' });
    const stale = deployment(
      { replicas: 2 },
      {
        metadata: { name: 'controller', namespace: 'metallb-system', resourceVersion: '1' },
      },
    );
    expect((await rejection(api.apply(stale, { fieldManager: 'op' }))).status).toBe(409);
    expect(stored(api).spec).toEqual({ replicas: 1 });
  });
});
