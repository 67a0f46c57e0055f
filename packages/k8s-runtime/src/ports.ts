// The narrow views of the Kubernetes API that components depend on. A component takes the
// smallest port it uses (a status writer a `KubeWriter`, a cache user a `CacheFactory`), so the
// real client and the in-memory `FakeKube` both satisfy it without casts. Types only.
import type { KubeObject, ObjectRef } from './types.js';

export type PatchType = 'merge' | 'strategic' | 'apply' | 'json';

/** Per-call options every request accepts. */
export interface CallOptions {
  /**
   * Give up on this call after this long in total (connect, send, answer), rejecting with a
   * `Timeout` KubeError. Default: the client's `requestTimeoutMs` of socket inactivity.
   */
  timeoutMs?: number;
}

export interface PatchOptions extends CallOptions {
  type: PatchType;
  subresource?: 'status' | (string & {});
  /** Required for `apply`; recorded in managedFields for the others. */
  fieldManager?: string;
  /** `apply` only: take ownership of fields other managers own. */
  force?: boolean;
}

export interface WriteOptions extends CallOptions {
  subresource?: 'status' | (string & {});
  fieldManager?: string;
}

/** Options of a server-side apply of a whole (partial) object. */
export interface ApplyOptions extends CallOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: 'status' | (string & {});
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface DeleteOptions extends CallOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only if the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface WatchOptions extends ListOptions {
  resourceVersion?: string;
  /** Server-side timeout; the server ends the stream cleanly after it. */
  timeoutSeconds?: number;
  /** Ask for BOOKMARK events (default true): they keep a quiet but healthy watch talking. */
  allowWatchBookmarks?: boolean;
  /**
   * Abandon the watch (reject with a `Timeout` KubeError) when nothing at all arrives for this
   * long: a half-open connection or a wedged server otherwise looks like a quiet resource.
   * Default 90 s, above the API server's once-a-minute bookmarks.
   */
  idleTimeoutMs?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** What discovery says about a kind. */
export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/** Reading objects. All methods reject with `KubeError`; objects are raw JSON. */
export interface KubeReader {
  get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: CallOptions): Promise<T>;
  /** All objects (follows continue tokens). */
  list<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: ListOptions): Promise<T[]>;
  /** All objects and the list's resourceVersion (to start a watch from). */
  listWithVersion<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts?: ListOptions,
  ): Promise<{ items: T[]; resourceVersion: string }>;
}

/** Writing objects. All methods reject with `KubeError`. */
export interface KubeWriter {
  create<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT; carries `metadata.resourceVersion` so a stale write fails with 409 Conflict. */
  replace<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: unknown, opts: PatchOptions): Promise<T>;
  /** Server-side apply of a whole (partial) object; the ref comes from the object itself. */
  apply<T extends KubeObject>(obj: T, opts: ApplyOptions): Promise<T>;
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<void>;
}

/** One watch request at a time. */
export interface KubeWatcher {
  /**
   * One watch request: `onEvent` gets every event; resolves when the server ends the stream
   * (timeout) or `signal` aborts; rejects with KubeError on errors, including a watch ERROR event
   * (410 Expired shows up that way).
   */
  watch(
    ref: ObjectRef,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** What a list+watch cache needs from the API (a client, or a fake in tests). */
export type ListWatcher = Pick<KubeReader, 'listWithVersion'> & KubeWatcher;
