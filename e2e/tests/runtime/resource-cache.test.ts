import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  ResourceCache,
  type Kube,
  type KubeObject,
  type ListWatcher,
  type LooseKubeObject,
} from '@metallb-ts/k8s-runtime';
import { labControlPlane } from '../../src/control-plane.js';
import {
  captureLogger,
  closeTestNamespace,
  configMap,
  configMapRef,
  eventually,
  kube,
  openTestNamespace,
  sortedNames,
} from './helpers.js';

let k: Kube;
let ns: string;
const cmCache = (namespace: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespace,
});

beforeAll(async () => ({ k, ns } = await openTestNamespace('rt-cache')), 30_000);
afterAll(() => closeTestNamespace(k, ns));

/** Records the last value seen per key through onChange, to compare with the cache and the API. */
function track(cache: ResourceCache<LooseKubeObject>) {
  const last = new Map<string, string | undefined>();
  const events: string[] = [];
  cache.onChange((key, obj) => {
    last.set(key, obj ? JSON.stringify(obj['data'] ?? {}) : undefined);
    events.push(`${key}:${obj ? 'set' : 'deleted'}`);
  });
  return { last, events };
}

describe('ResourceCache against a real API server', () => {
  it('sees create, update and delete', async () => {
    const cache = k.watchCache<LooseKubeObject>(cmCache(ns));
    const { last, events } = track(cache);
    await cache.waitForSync();
    expect(cache.hasSynced()).toBe(true);
    await k.create(configMap(ns, 'one', { v: '1' }));
    await eventually(() => last.get(`${ns}/one`) === '{"v":"1"}', 'create seen');
    await k.patch(configMapRef(ns, 'one'), { data: { v: '2' } }, { type: 'merge' });
    await eventually(() => last.get(`${ns}/one`) === '{"v":"2"}', 'update seen');
    await k.delete(configMapRef(ns, 'one'));
    await eventually(() => last.has(`${ns}/one`) && last.get(`${ns}/one`) === undefined, 'delete seen');
    expect(cache.get(`${ns}/one`)).toBeUndefined();
    expect(events.filter((e) => e.startsWith(`${ns}/one:`))).toEqual([
      `${ns}/one:set`,
      `${ns}/one:set`,
      `${ns}/one:deleted`,
    ]);
    await cache.stop();
  }, 30_000);

  it('survives an API server restart and catches up with changes made around it', async () => {
    const cp = labControlPlane();
    await k.create(configMap(ns, 'stays', { v: '1' }));
    await k.create(configMap(ns, 'goes', { v: '1' }));
    const { logger, lines } = captureLogger('rt-cache');
    const watcher = kube(logger);
    const cache = watcher.watchCache<LooseKubeObject>({ ...cmCache(ns), logger });
    const { last } = track(cache);
    await cache.waitForSync();

    await cp.restartApiServer();
    // Changes right after the restart: the cache may still be reconnecting when they happen.
    await k.delete(configMapRef(ns, 'goes'));
    await k.create(configMap(ns, 'new', { v: '1' }));
    await k.patch(configMapRef(ns, 'stays'), { data: { v: '2' } }, { type: 'merge' });

    await eventually(
      () =>
        last.get(`${ns}/stays`) === '{"v":"2"}' &&
        last.get(`${ns}/new`) === '{"v":"1"}' &&
        !cache.get(`${ns}/goes`),
      'cache caught up after the restart',
      60_000,
      () => ({ keys: cache.keys(), logs: lines.slice(-10) }),
    );
    expect(last.has(`${ns}/goes`) && last.get(`${ns}/goes`) === undefined).toBe(true);
    // It noticed the outage and said so.
    expect(lines.some((l) => l['msg'] === 'watch failed, reconnecting')).toBe(true);
    await eventually(() => lines.some((l) => l['msg'] === 'watch reconnected'), 'reconnect logged', 30_000);
    // And keeps working afterwards.
    await k.create(configMap(ns, 'after', { v: '1' }));
    await eventually(() => last.get(`${ns}/after`) === '{"v":"1"}', 'change after recovery seen');
    const server = sortedNames(await k.list<LooseKubeObject>(configMapRef(ns)));
    expect(sortedNames(cache.list())).toEqual(server);
    await cache.stop();
    watcher.close();
  }, 120_000);

  it('relists on 410 Gone when its resourceVersion is too old, emitting what it missed', async () => {
    await k.create(configMap(ns, 'old', { v: '1' }));
    const { logger, lines } = captureLogger('rt-cache');
    // The first list pretends to be ancient: the real watch from there must answer 410, and the
    // cache must relist instead of trusting what it holds.
    let lists = 0;
    let listedAt = '';
    const staleFirstList: ListWatcher = {
      listWithVersion: async <T extends KubeObject>(...args: Parameters<Kube['listWithVersion']>) => {
        const r = await k.listWithVersion<T>(...args);
        lists++;
        if (lists === 1) {
          listedAt = r.resourceVersion;
          // Also hide one object the first time, as if the list had been taken before it existed.
          return { items: r.items.filter((o) => o.metadata?.name !== 'old'), resourceVersion: '1' };
        }
        return r;
      },
      watch: (...args) => k.watch(...args),
    };
    const cache = new ResourceCache<LooseKubeObject>(staleFirstList, { ...cmCache(ns), logger });
    const { last } = track(cache);
    await cache.waitForSync();
    await eventually(
      () => lists >= 2,
      'relist after 410',
      30_000,
      () => lines.slice(-5),
    );
    expect(lines.some((l) => l['msg'] === 'watch expired (410), relisting')).toBe(true);
    await eventually(() => last.get(`${ns}/old`) === '{"v":"1"}', 'object hidden by the stale list appears');
    expect(Number(listedAt)).toBeGreaterThan(1);
    await k.patch(configMapRef(ns, 'old'), { data: { v: '2' } }, { type: 'merge' });
    await eventually(() => last.get(`${ns}/old`) === '{"v":"2"}', 'watch works after the relist');
    await cache.stop();
  }, 60_000);
});
