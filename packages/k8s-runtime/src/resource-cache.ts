import { isGone } from './kube-error.js';
import { silentLogger, type Logger } from './logger.js';
import type { ListWatcher } from './ports.js';
import { objectKey, type KubeObject } from './types.js';

export interface WatchCacheOptions {
  apiVersion: string;
  kind: string;
  plural: string;
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  logger?: Logger;
  /** Server-side watch timeout range; a random value in it spreads reconnects. Default 240..480 s. */
  watchTimeoutSeconds?: [min: number, max: number];
  /** Abandon a watch (and relist) when nothing, not even a bookmark, arrives for this long.
   * Default 90 s. */
  watchIdleTimeoutMs?: number;
  /** Reconnect backoff after errors. Default 100 ms doubling up to 10 s. */
  backoff?: { initialMs: number; maxMs: number };
}

/** `listener(key, current, previous)`: `current` is undefined when the object is gone. */
export type ChangeListener<T> = (key: string, obj: T | undefined, previous: T | undefined) => void;

/** Makes list+watch caches; what a component that only reads through caches depends on. */
export interface CacheFactory {
  /** A list+watch cache that keeps itself in sync; see ResourceCache. */
  watchCache<T extends KubeObject = KubeObject>(opts: WatchCacheOptions): ResourceCache<T>;
}

/**
 * A CacheFactory over any list+watch source; `defaults` fill what a cache's options leave out
 * (the client's logger, a fake's short backoff).
 */
export function cacheFactory(
  api: ListWatcher,
  defaults: Pick<WatchCacheOptions, 'logger' | 'backoff'> = {},
): CacheFactory {
  return {
    watchCache: <T extends KubeObject = KubeObject>(opts: WatchCacheOptions) =>
      new ResourceCache<T>(api, { ...defaults, ...opts, logger: opts.logger ?? defaults.logger }),
  };
}

/**
 * A list+watch cache of one resource type, keyed `namespace/name` (or `name` when cluster-scoped).
 *
 * It never loses an update: when a watch ends cleanly (server timeout) it resumes from the last
 * resourceVersion; on 410 Gone, on errors and after the API server comes back it relists and
 * emits a change for every object that differs from what it held — including deletions that
 * happened while it was disconnected. Objects handed out are shared: do not mutate them.
 */
export class ResourceCache<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly listeners = new Set<ChangeListener<T>>();
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private resourceVersion = '';
  private readonly done: Promise<void>;
  private relists = 0;

  constructor(
    private readonly api: ListWatcher,
    private readonly opts: WatchCacheOptions,
  ) {
    this.logger = (opts.logger ?? silentLogger).child({
      cache: opts.namespace
        ? `${opts.plural}.${opts.apiVersion}/${opts.namespace}`
        : `${opts.plural}.${opts.apiVersion}`,
    });
    // Start on the next tick so listeners registered right after construction see the first list.
    this.done = Promise.resolve().then(() => this.loop());
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  get size(): number {
    return this.store.size;
  }

  /** True once the first full list has been loaded. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** How many times the cache has (re)listed; 1 after the first sync. */
  listCount(): number {
    return this.relists;
  }

  /** Resolves once synced; rejects if `signal` aborts first or the cache is stopped. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new Error('waitForSync aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.abort.signal.addEventListener('abort', () => reject(new Error('cache stopped')), { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * Registers a listener; with `replay` it is first called for every object already held.
   * Returns a function that unregisters it.
   */
  onChange(listener: ChangeListener<T>, opts: { replay?: boolean } = {}): () => void {
    this.listeners.add(listener);
    if (opts.replay) for (const [k, v] of this.store) this.call(listener, k, v, undefined);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching; resolves when the watch loop has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private emit(key: string, obj: T | undefined, previous: T | undefined): void {
    for (const l of this.listeners) this.call(l, key, obj, previous);
  }

  private call(l: ChangeListener<T>, key: string, obj: T | undefined, previous: T | undefined): void {
    try {
      l(key, obj, previous);
    } catch (error) {
      this.logger.error('cache listener threw', { key, error });
    }
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const prev = this.store.get(key);
    if (
      prev &&
      prev.metadata?.resourceVersion === obj.metadata?.resourceVersion &&
      obj.metadata?.resourceVersion
    ) {
      return;
    }
    this.store.set(key, obj);
    this.emit(key, obj, prev);
  }

  private remove(key: string): void {
    const prev = this.store.get(key);
    if (!prev) return;
    this.store.delete(key);
    this.emit(key, undefined, prev);
  }

  private get ref() {
    return {
      apiVersion: this.opts.apiVersion,
      kind: this.opts.kind,
      plural: this.opts.plural,
      namespace: this.opts.namespace,
    };
  }

  /** Replaces the store with a fresh list, emitting only real differences. */
  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.api.listWithVersion<T>(this.ref, {
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
    });
    if (this.abort.signal.aborted) return;
    const seen = new Set<string>();
    // Kube.listWithVersion already puts apiVersion/kind back on list items.
    for (const item of items) {
      seen.add(objectKey(item));
      this.upsert(item);
    }
    for (const key of [...this.store.keys()]) if (!seen.has(key)) this.remove(key);
    this.resourceVersion = resourceVersion;
    this.relists++;
    if (!this.synced) {
      this.synced = true;
      this.logger.debug('cache synced', { objects: this.store.size, resourceVersion });
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    const initialMs = this.opts.backoff?.initialMs ?? 100;
    const maxMs = this.opts.backoff?.maxMs ?? 10_000;
    const [tMin, tMax] = this.opts.watchTimeoutSeconds ?? [240, 480];
    let delayMs = initialMs;
    let needList = true;
    let failingSince: number | undefined;
    let lastGoneMs = 0;
    let watchStarted = 0;
    while (!signal.aborted) {
      watchStarted = 0;
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        if (failingSince !== undefined) {
          this.logger.info('watch reconnected', {
            downMs: Date.now() - failingSince,
            resourceVersion: this.resourceVersion,
          });
          failingSince = undefined;
        }
        if (signal.aborted) break;
        const timeoutSeconds = Math.round(tMin + Math.random() * Math.max(0, tMax - tMin));
        watchStarted = Date.now();
        await this.api.watch(
          this.ref,
          {
            resourceVersion: this.resourceVersion,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            timeoutSeconds,
            allowWatchBookmarks: true,
            idleTimeoutMs: this.opts.watchIdleTimeoutMs,
          },
          (type, raw) => {
            if (signal.aborted) return;
            const rv = raw.metadata?.resourceVersion;
            if (type === 'BOOKMARK') {
              if (rv) this.resourceVersion = rv;
              return;
            }
            const obj = { apiVersion: this.opts.apiVersion, kind: this.opts.kind, ...raw } as T;
            if (type === 'DELETED') this.remove(objectKey(obj));
            else this.upsert(obj);
            if (rv) this.resourceVersion = rv;
          },
          signal,
        );
        // A clean end is the server-side timeout: resume from where we are, no relist needed.
        // One that comes right away (a proxy or a shutting-down server closing streams) must not
        // turn into a tight loop, so it waits like a failure would.
        if (Date.now() - watchStarted >= 1000) {
          delayMs = initialMs;
        } else if (!signal.aborted) {
          this.logger.debug('watch ended early, pausing before the next one', { retryInMs: delayMs });
          await sleep(delayMs, signal);
          delayMs = Math.min(delayMs * 2, maxMs);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          // Our resourceVersion was compacted away: relist at once, this is not a failure.
          this.logger.info('watch expired (410), relisting', { resourceVersion: this.resourceVersion });
          needList = true;
          // Two in a row within a second means something is off; do not spin.
          if (Date.now() - lastGoneMs < 1000) {
            await sleep(delayMs, signal);
            delayMs = Math.min(delayMs * 2, maxMs);
          }
          lastGoneMs = Date.now();
          continue;
        }
        failingSince ??= Date.now();
        // After any failure relist: the API server may have restarted and missed nothing, or we may
        // have missed deletions that no watch will ever replay.
        needList = true;
        // A watch that had been healthy for a while starts the backoff afresh.
        if (watchStarted !== 0 && Date.now() - watchStarted > 10_000) delayMs = initialMs;
        this.logger.warn('watch failed, reconnecting', { error, retryInMs: delayMs });
        await sleep(delayMs * (0.8 + Math.random() * 0.4), signal);
        delayMs = Math.min(delayMs * 2, maxMs);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
