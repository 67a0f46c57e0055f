import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  isGone,
  isKubeError,
  ResourceCache,
  type Kube,
  type KubeWatcher,
  type ListWatcher,
  type LooseKubeObject,
} from '@metallb-ts/k8s-runtime';
import { labControlPlane } from '../../src/control-plane.js';
import { compactEtcd } from '../../src/etcd.js';
import { waitFor } from '../../src/wait-for.js';
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

/*
 * Issue 12, item 3: "watches resume (410 Gone handled)", against the real API server. A cache's
 * watch ends cleanly (as at the server's timeoutSeconds), so the cache resumes from the
 * resourceVersion it holds instead of relisting. Before that resume reaches the server, objects
 * are created, changed and deleted, etcd is compacted past them and kube-apiserver restarted
 * (its watch cache then starts after them too): the real server answers the resume with 410, and
 * the cache must relist, deliver every change made meanwhile (the deletion included), say so in
 * its log, and go on watching. The only stand-in is a gate in front of the real client's watch
 * (the ListWatcher port), which holds the resume until the history is gone.
 */

let k: Kube;
let ns: string;
/** Only the test's own ConfigMaps (not the namespace's kube-root-ca.crt, which comes when it likes). */
const LABEL = 'e2e.metallb-ts/watch-expiry';
const SELECTOR = `${LABEL}=yes`;
const mine = (name: string, v: string) => {
  const cm = configMap(ns, name, { v });
  return { ...cm, metadata: { ...cm.metadata, labels: { [LABEL]: 'yes' } } };
};

beforeAll(async () => ({ k, ns } = await openTestNamespace('rt-expiry')), 30_000);
afterAll(() => closeTestNamespace(k, ns));

/** What happened to one watch request the cache made. */
interface WatchCall {
  resourceVersion: string | undefined;
  outcome?: { ended: true } | { error: unknown };
}

/**
 * The real client, with a hand on the cache's first two watches: the first can be ended cleanly
 * (`endFirst`), the second waits for `open` before it goes to the server. Every call and its
 * outcome is recorded.
 */
function gatedWatch(real: ListWatcher) {
  const calls: WatchCall[] = [];
  const first = new AbortController();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const watch: KubeWatcher['watch'] = async (ref, opts, onEvent, signal) => {
    const call: WatchCall = { resourceVersion: opts.resourceVersion };
    calls.push(call);
    const n = calls.length;
    if (n === 2) await gate;
    const s = n === 1 && signal ? AbortSignal.any([signal, first.signal]) : signal;
    try {
      await real.watch(ref, opts, onEvent, s);
      call.outcome = { ended: true };
    } catch (error) {
      call.outcome = { error };
      throw error;
    }
  };
  const lw: ListWatcher = { listWithVersion: (...args) => real.listWithVersion(...args), watch };
  return { lw, calls, endFirst: () => first.abort(), open };
}

/** One watch from `resourceVersion` straight to the server: 'gone', or what it did instead. */
async function answerTo(resourceVersion: string): Promise<'gone' | string> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 3_000);
  const seen: string[] = [];
  try {
    await k.watch(
      configMapRef(ns),
      { resourceVersion, labelSelector: SELECTOR, timeoutSeconds: 2, allowWatchBookmarks: false },
      (type, obj) => seen.push(`${type} ${obj.metadata?.name}`),
      stop.signal,
    );
    return `no error; events: ${seen.join(', ') || 'none'}`;
  } catch (e) {
    if (isGone(e)) return 'gone';
    return isKubeError(e) ? `${e.status} ${e.reason}: ${e.message}` : String(e);
  } finally {
    clearTimeout(timer);
  }
}

describe('a watch resuming from a compacted resourceVersion, against the real API server', () => {
  it('gets 410 from the server, relists, and delivers every change made meanwhile', async () => {
    const cp = labControlPlane();
    await k.create(mine('stays', '1'));
    await k.create(mine('goes', '1'));

    const { logger, lines } = captureLogger('rt-expiry');
    const watcher = kube(logger);
    const gated = gatedWatch(watcher);
    const cache = new ResourceCache<LooseKubeObject>(gated.lw, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      namespace: ns,
      labelSelector: SELECTOR,
      logger,
    });
    const changes: string[] = [];
    cache.onChange((key, obj) => changes.push(`${key}=${obj ? JSON.stringify(obj['data']) : 'deleted'}`));
    try {
      await cache.waitForSync();
      expect(cache.keys().sort()).toEqual([`${ns}/goes`, `${ns}/stays`]);
      await eventually(() => gated.calls.length === 1, 'the first watch to start');

      // The first watch ends cleanly: the cache resumes (its second watch, held at the gate)
      // from the resourceVersion it holds, without a relist.
      gated.endFirst();
      await eventually(
        () => gated.calls.length === 2,
        'the cache to resume watching',
        10_000,
        () => gated.calls,
      );
      expect(gated.calls[0]!.outcome).toEqual({ ended: true });
      expect(cache.listCount()).toBe(1);
      const resumeFrom = gated.calls[1]!.resourceVersion;
      expect(resumeFrom).toMatch(/^\d+$/);

      // Meanwhile: a create, an update and a delete, then the history behind them goes away.
      changes.length = 0;
      await k.create(mine('born', '1'));
      await k.patch(configMapRef(ns, 'stays'), { data: { v: '2' } }, { type: 'merge' });
      await k.delete(configMapRef(ns, 'goes'));
      const compactedAt = await compactEtcd();
      expect(compactedAt).toBeGreaterThan(Number(resumeFrom));
      await cp.restartApiServer();
      // The server is back when a watch from the cache's resourceVersion is refused as expired
      // (not 429 while its watch cache initialises, not a replay).
      await waitFor(
        `the API server to answer a watch from resourceVersion ${resumeFrom} with 410`,
        async () => {
          const a = await answerTo(resumeFrom!);
          return a === 'gone' ? { done: true, value: a } : { done: false, observed: a };
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // Nothing reached the cache while its watch was held.
      expect(changes).toEqual([]);

      gated.open();
      await eventually(
        () => cache.listCount() === 2,
        'the cache to relist after the 410',
        30_000,
        () => ({ calls: gated.calls.length, logs: lines.slice(-5) }),
      );
      // The resume itself was answered 410 by the real server.
      const resumed = gated.calls[1]!.outcome;
      expect(resumed && 'error' in resumed && isGone(resumed.error)).toBe(true);
      // Every change made meanwhile, once each, the deletion included.
      expect([...changes].sort()).toEqual(
        [`${ns}/born={"v":"1"}`, `${ns}/goes=deleted`, `${ns}/stays={"v":"2"}`].sort(),
      );
      // Logged as an expiry at the resourceVersion it resumed from, not as a failure.
      const expired = lines.filter((l) => l['msg'] === 'watch expired (410), relisting');
      expect(expired.map((l) => l['resourceVersion'])).toEqual([resumeFrom]);
      expect(lines.filter((l) => l['msg'] === 'watch failed, reconnecting')).toEqual([]);

      // And it goes on watching from the new list.
      await eventually(() => gated.calls.length >= 3, 'a watch from the new list');
      expect(Number(gated.calls[2]!.resourceVersion)).toBeGreaterThanOrEqual(compactedAt);
      await k.patch(configMapRef(ns, 'born'), { data: { v: '2' } }, { type: 'merge' });
      await eventually(
        () => changes.includes(`${ns}/born={"v":"2"}`),
        'a change after the relist',
        20_000,
        () => changes,
      );
      const server = sortedNames(
        await k.list<LooseKubeObject>(configMapRef(ns), { labelSelector: SELECTOR }),
      );
      expect(sortedNames(cache.list())).toEqual(server);
    } finally {
      gated.open();
      await cache.stop();
      watcher.close();
    }
  }, 180_000);
});
