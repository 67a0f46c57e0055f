// An in-memory API server for unit tests (this package's and its users'): objects with
// resourceVersions, optimistic concurrency, JSON merge patches, server-side apply (see
// server-side-apply.ts for how close it comes), watches that replay from a resourceVersion,
// compaction (410) and outages. Framework-free, so any test runner can use it.
import type { Kube } from '../kube.js';
import { KubeError } from '../kube-error.js';
import { silentLogger, type Logger } from '../logger.js';
import type {
  ApplyOptions,
  ListOptions,
  PatchOptions,
  ResourceInfo,
  WatchEventType,
  WatchOptions,
} from '../ports.js';
import { ResourceCache, type WatchCacheOptions } from '../resource-cache.js';
import { serverSideApply } from './server-side-apply.js';
import type { KubeObject, ObjectRef } from '../types.js';

type Ev = { rv: number; type: WatchEventType; obj: KubeObject; kind: string };
type Watcher = {
  kind: string;
  ns?: string;
  onEvent: (t: WatchEventType, o: KubeObject) => void;
  end: (e?: KubeError) => void;
};

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeKube implements Kube {
  readonly server = 'fake://';
  readonly logger: Logger = silentLogger;
  /** What `resource()` answers, keyed `apiVersion/kind`; other kinds are 404 as on a real server. */
  readonly resources = new Map<string, ResourceInfo>();
  rv = 100;
  compactedBelow = 0;
  down = false;
  readonly objects = new Map<string, KubeObject>();
  readonly events: Ev[] = [];
  private readonly watchers = new Set<Watcher>();
  calls: string[] = [];

  private key(kind: string, ns: string | undefined, name: string | undefined): string {
    return `${kind}/${ns ?? ''}/${name ?? ''}`;
  }

  private check(op: string): void {
    this.calls.push(op);
    if (this.down) throw new KubeError({ status: 0, reason: 'NetworkError', message: `${op}: ECONNREFUSED` });
  }

  private record(type: WatchEventType, obj: KubeObject): void {
    const ev: Ev = { rv: this.rv, type, obj: clone(obj), kind: obj.kind ?? '' };
    this.events.push(ev);
    for (const w of this.watchers) {
      if (w.kind === ev.kind && (!w.ns || w.ns === obj.metadata?.namespace)) w.onEvent(type, clone(obj));
    }
  }

  /** Ends every open watch, cleanly or with an error. */
  dropWatches(err?: KubeError): void {
    for (const w of [...this.watchers]) w.end(err);
  }

  /** Forgets history up to now: watches from older versions get 410. */
  compact(): void {
    this.compactedBelow = this.rv + 1;
  }

  /** Writes without going through a watch (as if it happened during an outage, history lost). */
  silentlyDelete(kind: string, ns: string | undefined, name: string): void {
    this.rv++;
    this.objects.delete(this.key(kind, ns, name));
    this.compact();
  }

  watchCount(): number {
    return this.watchers.size;
  }

  /**
   * Creates or replaces an object as another client would (a user, another component): no
   * concurrency check, not counted in `calls`, works during an outage. Metadata the caller leaves
   * out (uid, creationTimestamp, annotations, ...) carries over from the stored object, or gets a
   * default derived from the name and the resourceVersion.
   */
  put(obj: KubeObject): void {
    const k = this.key(obj.kind!, obj.metadata?.namespace, obj.metadata?.name);
    const cur = this.objects.get(k);
    this.rv++;
    const stored = clone(obj);
    stored.metadata = {
      uid: `uid-${obj.metadata?.name}`,
      creationTimestamp: new Date(1_700_000_000_000 + this.rv * 1000).toISOString(),
      ...cur?.metadata,
      ...stored.metadata,
      resourceVersion: String(this.rv),
    };
    this.objects.set(k, stored);
    this.record(cur ? 'MODIFIED' : 'ADDED', stored);
  }

  /** Deletes an object as another client would (see `put`); nothing happens if it is absent. */
  remove(kind: string, ns: string | undefined, name: string): void {
    const k = this.key(kind, ns, name);
    const cur = this.objects.get(k);
    if (!cur) return;
    this.rv++;
    this.objects.delete(k);
    this.record('DELETED', { ...cur, metadata: { ...cur.metadata, resourceVersion: String(this.rv) } });
  }

  /** The stored object itself (not a copy), for assertions; not counted in `calls`. */
  find<T extends KubeObject = KubeObject>(kind: string, ns: string | undefined, name: string): T | undefined {
    return this.objects.get(this.key(kind, ns, name)) as T | undefined;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    this.check(`get ${ref.kind} ${ref.name}`);
    const o = this.objects.get(this.key(ref.kind, ref.namespace, ref.name));
    if (!o)
      throw new KubeError({ status: 404, reason: 'NotFound', message: `${ref.kind} ${ref.name} not found` });
    return clone(o) as T;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    this.check(`create ${obj.kind} ${obj.metadata?.name}`);
    const k = this.key(obj.kind!, obj.metadata?.namespace, obj.metadata?.name);
    if (this.objects.has(k)) throw new KubeError({ status: 409, reason: 'AlreadyExists', message: 'exists' });
    this.rv++;
    const stored = clone(obj);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv), uid: `uid-${this.rv}` };
    this.objects.set(k, stored);
    this.record('ADDED', stored);
    return clone(stored);
  }

  async replace<T extends KubeObject>(obj: T): Promise<T> {
    this.check(`replace ${obj.kind} ${obj.metadata?.name}`);
    const k = this.key(obj.kind!, obj.metadata?.namespace, obj.metadata?.name);
    const cur = this.objects.get(k);
    if (!cur) throw new KubeError({ status: 404, reason: 'NotFound', message: 'not found' });
    if (obj.metadata?.resourceVersion && obj.metadata.resourceVersion !== cur.metadata?.resourceVersion) {
      throw new KubeError({ status: 409, reason: 'Conflict', message: 'the object has been modified' });
    }
    this.rv++;
    const stored = clone(obj);
    stored.metadata = { ...cur.metadata, ...stored.metadata, resourceVersion: String(this.rv) };
    this.objects.set(k, stored);
    this.record('MODIFIED', stored);
    return clone(stored);
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: PatchOptions,
  ): Promise<T> {
    if (opts.type === 'apply') return this.serverSideApply<T>(ref, patch as KubeObject, opts);
    this.check(`patch ${ref.kind} ${ref.name}`);
    const k = this.key(ref.kind, ref.namespace, ref.name);
    const cur = this.objects.get(k);
    if (!cur) throw new KubeError({ status: 404, reason: 'NotFound', message: 'not found' });
    this.rv++;
    // Cloned so the stored object shares no arrays with the caller's patch.
    const stored = mergePatch(cur, clone(patch)) as KubeObject;
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv) };
    this.objects.set(k, stored);
    this.record('MODIFIED', stored);
    return clone(stored) as T;
  }

  async apply<T extends KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    const ref = {
      apiVersion: obj.apiVersion ?? '',
      kind: obj.kind ?? '',
      namespace: obj.metadata?.namespace,
      name: obj.metadata?.name,
    };
    return this.patch<T>(ref, obj, { type: 'apply', ...opts });
  }

  private async serverSideApply<T extends KubeObject>(
    ref: ObjectRef,
    applied: KubeObject,
    opts: PatchOptions,
  ): Promise<T> {
    this.check(`apply ${ref.kind} ${ref.name}${opts.subresource ? `/${opts.subresource}` : ''}`);
    const k = this.key(ref.kind, ref.namespace, ref.name);
    const cur = this.objects.get(k);
    const result = serverSideApply(
      cur,
      { ...clone(applied), apiVersion: ref.apiVersion, kind: ref.kind },
      { manager: opts.fieldManager ?? '', force: opts.force ?? false, subresource: opts.subresource },
    );
    if (!result.ok) throw result.error;
    if (!result.changed && cur) return clone(cur) as T;
    this.rv++;
    const stored = result.object;
    stored.metadata = {
      ...stored.metadata,
      resourceVersion: String(this.rv),
      uid: cur?.metadata?.uid ?? `uid-${this.rv}`,
      creationTimestamp:
        cur?.metadata?.creationTimestamp ?? new Date(1_700_000_000_000 + this.rv * 1000).toISOString(),
    };
    this.objects.set(k, stored);
    this.record(cur ? 'MODIFIED' : 'ADDED', stored);
    return clone(stored) as T;
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.check(`delete ${ref.kind} ${ref.name}`);
    const k = this.key(ref.kind, ref.namespace, ref.name);
    const cur = this.objects.get(k);
    if (!cur) throw new KubeError({ status: 404, reason: 'NotFound', message: 'not found' });
    this.rv++;
    this.objects.delete(k);
    this.record('DELETED', { ...cur, metadata: { ...cur.metadata, resourceVersion: String(this.rv) } });
  }

  async listWithVersion<T extends KubeObject = KubeObject>(ref: ObjectRef, _opts?: ListOptions) {
    this.check(`list ${ref.kind}`);
    const items = [...this.objects.values()].filter(
      (o) => o.kind === ref.kind && (!ref.namespace || o.metadata?.namespace === ref.namespace),
    );
    return { items: clone(items) as T[], resourceVersion: String(this.rv) };
  }

  async list<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: ListOptions): Promise<T[]> {
    return (await this.listWithVersion<T>(ref, opts)).items;
  }

  watch(
    ref: ObjectRef,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      this.check(`watch ${ref.kind} from ${opts.resourceVersion}`);
    } catch (e) {
      return Promise.reject(e);
    }
    const from = Number(opts.resourceVersion ?? 0);
    if (from < this.compactedBelow - 1) {
      return Promise.reject(
        new KubeError({ status: 410, reason: 'Expired', message: 'too old resource version' }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const w: Watcher = {
        kind: ref.kind,
        ns: ref.namespace,
        onEvent,
        end: (e) => {
          this.watchers.delete(w);
          if (e) reject(e);
          else resolve();
        },
      };
      for (const ev of this.events) {
        if (
          ev.rv > from &&
          ev.kind === ref.kind &&
          (!ref.namespace || ev.obj.metadata?.namespace === ref.namespace)
        ) {
          onEvent(ev.type, clone(ev.obj));
        }
      }
      this.watchers.add(w);
      if (signal?.aborted) w.end();
      signal?.addEventListener('abort', () => w.end(), { once: true });
    });
  }

  watchCache<T extends KubeObject = KubeObject>(opts: WatchCacheOptions): ResourceCache<T> {
    return new ResourceCache<T>(this, { backoff: { initialMs: 1, maxMs: 5 }, ...opts });
  }

  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const found = this.resources.get(`${apiVersion}/${kind}`);
    if (found) return found;
    throw new KubeError({
      status: 404,
      reason: 'NotFound',
      message: `the server has no resource for kind ${kind} in ${apiVersion}`,
    });
  }

  /** True once `close()` was called (the component runtime closes its client last). */
  closed = false;
  close(): void {
    this.closed = true;
  }
}

export const until = async (cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};
