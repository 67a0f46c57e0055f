import { describe, it, expect, afterEach } from '@jest/globals';
import { KubeError } from '../src/kube-error.js';
import type { ResourceCache } from '../src/resource-cache.js';
import type { LooseKubeObject as KubeObject } from '../src/types.js';
import { FakeKube, until } from '../src/testing/index.js';

const svc = (ns: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: ns, name },
  spec: { type: 'LoadBalancer', ...extra },
});
const ref = { apiVersion: 'v1', kind: 'Service', plural: 'services' };

describe('ResourceCache', () => {
  const caches: ResourceCache<KubeObject>[] = [];
  afterEach(async () => {
    for (const c of caches.splice(0)) await c.stop();
  });
  function start(api: FakeKube, namespace?: string) {
    const cache = api.watchCache<KubeObject>({ ...ref, namespace });
    caches.push(cache);
    const changes: Array<[string, string | undefined]> = [];
    cache.onChange((key, obj) => changes.push([key, obj?.metadata?.resourceVersion]));
    return { cache, changes };
  }

  it('lists, syncs, then follows creates, updates and deletes keyed namespace/name', async () => {
    const api = new FakeKube();
    await api.create(svc('default', 'a'));
    const { cache, changes } = start(api);
    expect(cache.hasSynced()).toBe(false);
    await cache.waitForSync();
    expect(cache.keys()).toEqual(['default/a']);
    expect(changes.map((c) => c[0])).toEqual(['default/a']);

    await api.create(svc('other', 'b'));
    await api.patch(
      { ...ref, namespace: 'default', name: 'a' },
      { spec: { ports: [80] } },
      { type: 'merge' },
    );
    await api.delete({ ...ref, namespace: 'other', name: 'b' });
    await until(() => changes.length === 4, 'three more changes');
    expect(changes.map(([k, rv]) => [k, rv !== undefined])).toEqual([
      ['default/a', true],
      ['other/b', true],
      ['default/a', true],
      ['other/b', false],
    ]);
    expect(cache.get('default/a')?.['spec']).toEqual({ type: 'LoadBalancer', ports: [80] });
    expect(cache.get('other/b')).toBeUndefined();
    expect(cache.list()).toHaveLength(1);
  });

  it('resumes after a clean watch end without relisting', async () => {
    const api = new FakeKube();
    const { cache, changes } = start(api);
    await cache.waitForSync();
    await until(() => api.watchCount() === 1, 'watch open');
    api.dropWatches();
    await api.create(svc('default', 'during-gap'));
    await until(() => changes.length === 1, 'event from the gap replayed');
    expect(cache.listCount()).toBe(1);
  });

  it('relists after a dropped connection and emits what changed, including deletions it never saw', async () => {
    const api = new FakeKube();
    await api.create(svc('default', 'keep'));
    await api.create(svc('default', 'gone'));
    const { cache, changes } = start(api);
    await cache.waitForSync();
    await until(() => api.watchCount() === 1, 'watch open');
    changes.length = 0;
    // While the watch is down, history is compacted: one object disappears, one appears.
    api.down = true;
    api.dropWatches(new KubeError({ status: 0, reason: 'NetworkError', message: 'reset' }));
    api.down = false;
    api.silentlyDelete('Service', 'default', 'gone');
    await api.create(svc('default', 'new'));
    api.compact();
    await until(() => changes.length >= 2, 'relist diff');
    expect(new Set(changes.map(([k, rv]) => `${k}:${rv === undefined ? 'deleted' : 'present'}`))).toEqual(
      new Set(['default/gone:deleted', 'default/new:present']),
    );
    expect(cache.keys().sort()).toEqual(['default/keep', 'default/new']);
    expect(cache.listCount()).toBe(2);
  });

  it('a watch ERROR 410 makes it relist without a failure backoff', async () => {
    const api = new FakeKube();
    const { cache } = start(api);
    await cache.waitForSync();
    await until(() => api.watchCount() === 1, 'watch open');
    await api.create(svc('default', 'x'));
    api.compact();
    api.dropWatches(new KubeError({ status: 410, reason: 'Expired', message: 'too old' }));
    await until(() => cache.listCount() === 2, 'relist');
    await until(() => api.watchCount() === 1, 'watch reopened');
    expect(cache.get('default/x')).toBeDefined();
  });

  it('keeps retrying through an outage and catches up afterwards', async () => {
    const api = new FakeKube();
    await api.create(svc('default', 'a'));
    const { cache, changes } = start(api);
    await cache.waitForSync();
    await until(() => api.watchCount() === 1, 'watch open');
    api.down = true;
    api.dropWatches(new KubeError({ status: 0, reason: 'NetworkError', message: 'ECONNRESET' }));
    const failedBefore = api.calls.length;
    await until(() => api.calls.length > failedBefore + 3, 'several reconnect attempts');
    await api.delete({ ...ref, namespace: 'default', name: 'a' }).catch(() => undefined); // refused: down
    api.down = false;
    await api.patch({ ...ref, namespace: 'default', name: 'a' }, { spec: { x: 1 } }, { type: 'merge' });
    await until(() => changes.length === 2, 'update after outage');
    expect(cache.get('default/a')?.['spec']).toEqual({ type: 'LoadBalancer', x: 1 });
  });

  it('scopes to a namespace and replays the store to late listeners on request', async () => {
    const api = new FakeKube();
    await api.create(svc('a', 'one'));
    await api.create(svc('b', 'two'));
    const { cache } = start(api, 'a');
    await cache.waitForSync();
    expect(cache.keys()).toEqual(['a/one']);
    const late: string[] = [];
    cache.onChange((k) => late.push(k), { replay: true });
    expect(late).toEqual(['a/one']);
  });

  it('a throwing listener does not stop the others', async () => {
    const api = new FakeKube();
    const cache = api.watchCache<KubeObject>({ ...ref });
    caches.push(cache);
    const seen: string[] = [];
    cache.onChange(() => {
      throw new Error('listener bug');
    });
    cache.onChange((k) => seen.push(k));
    await cache.waitForSync();
    await api.create(svc('d', 'z'));
    await until(() => seen.length === 1, 'second listener called');
  });

  it('waitForSync rejects on abort', async () => {
    const api = new FakeKube();
    api.down = true;
    const cache = api.watchCache<KubeObject>({ ...ref });
    caches.push(cache);
    const ac = new AbortController();
    const p = cache.waitForSync(ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow('aborted');
  });
});
