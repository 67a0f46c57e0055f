import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeError, kubeErrorFromStatus } from './kube-error.js';
import { createLogger, parseLogLevel, type Logger } from './logger.js';
import { ResourceCache, type WatchCacheOptions } from './resource-cache.js';
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

export interface ConnectOptions {
  /** Path of a kubeconfig; otherwise $KUBECONFIG, ~/.kube/config or in-cluster config. */
  kubeconfig?: string;
  /** Used by the client and, unless they get their own, by its caches. Default: JSON lines on
   * stdout, component `k8s-client`, level from $LOG_LEVEL. */
  logger?: Logger;
  /** Timeout for non-watch requests. Default 30 s. */
  requestTimeoutMs?: number;
  /** Sent as User-Agent. */
  userAgent?: string;
}

/**
 * The Kubernetes API as the components see it. All methods reject with `KubeError`.
 * Objects are raw JSON as the API server sends them.
 */
export interface Kube {
  /** The API server URL. */
  readonly server: string;
  readonly logger: Logger;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: CallOptions): Promise<T>;
  /** All objects (follows continue tokens). */
  list<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: ListOptions): Promise<T[]>;
  /** All objects and the list's resourceVersion (to start a watch from). */
  listWithVersion<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts?: ListOptions,
  ): Promise<{ items: T[]; resourceVersion: string }>;
  create<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT; carries `metadata.resourceVersion` so a stale write fails with 409 Conflict. */
  replace<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<void>;
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: unknown, opts: PatchOptions): Promise<T>;
  /** Server-side apply of a whole (partial) object; the ref comes from the object itself. */
  apply<T extends KubeObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; subresource?: 'status' | (string & {}) },
  ): Promise<T>;
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
  /** A list+watch cache that keeps itself in sync; see ResourceCache. */
  watchCache<T extends KubeObject = KubeObject>(opts: WatchCacheOptions): ResourceCache<T>;
  /** Discovery: plural name and scope of a kind. */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export function connect(opts: ConnectOptions = {}): Kube {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  return new KubeClient(kc, opts);
}

interface Transport {
  agent: http.Agent;
  secure: boolean;
  baseHeaders: Record<string, string>;
  headersAt: number;
}

const contentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
  json: 'application/json-patch+json',
};

// Tokens from exec plugins and projected ServiceAccount files rotate; re-read the auth headers now and then.
const HEADER_REFRESH_MS = 60_000;

class KubeClient implements Kube {
  readonly server: string;
  readonly logger: Logger;
  private readonly kc: KubeConfig;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;
  private transport: Promise<Transport> | undefined;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(kc: KubeConfig, opts: ConnectOptions) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server.replace(/\/+$/, '');
    // Reconnects and relists must be visible even when the caller did not pass a logger.
    this.logger =
      opts.logger ??
      createLogger({ component: 'k8s-client', level: parseLogLevel(process.env['LOG_LEVEL']) });
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'metallb-ts';
  }

  // ---- transport -------------------------------------------------------------------------

  private async tls(): Promise<Transport> {
    if (!this.transport) {
      this.transport = (async () => {
        const o: https.RequestOptions = {};
        await this.kc.applyToHTTPSOptions(o);
        const secure = this.server.startsWith('https:');
        const cluster = this.kc.getCurrentCluster();
        const agent = secure
          ? new https.Agent({
              keepAlive: true,
              ca: o.ca,
              cert: o.cert,
              key: o.key,
              pfx: o.pfx,
              passphrase: o.passphrase,
              rejectUnauthorized: cluster?.skipTLSVerify ? false : (o.rejectUnauthorized ?? true),
              servername: cluster?.tlsServerName ?? o.servername ?? undefined,
            })
          : new http.Agent({ keepAlive: true });
        return { agent, secure, baseHeaders: headersOf(o), headersAt: Date.now() };
      })().catch((e: unknown) => {
        this.transport = undefined;
        throw new KubeError({
          status: 0,
          reason: 'ConfigError',
          message: `kubeconfig: ${(e as Error).message}`,
        });
      });
    }
    const t = await this.transport;
    if (Date.now() - t.headersAt > HEADER_REFRESH_MS) {
      t.headersAt = Date.now();
      const o: https.RequestOptions = {};
      try {
        await this.kc.applyToHTTPSOptions(o);
        t.baseHeaders = headersOf(o);
      } catch (error) {
        this.logger.warn('refreshing credentials failed, keeping the old ones', { error });
      }
    }
    return t;
  }

  /** One request with a JSON (or empty) answer. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs?: number,
  ): Promise<unknown> {
    // The total budget also covers credential loading, so measure it from here.
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const t = await this.tls();
    const url = new URL(this.server + path);
    const operation = `${method} ${url.pathname}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<unknown>((resolve, reject) => {
      let budget: ReturnType<typeof setTimeout> | undefined;
      const mod = t.secure ? https : http;
      const req = mod.request(
        url,
        {
          method,
          agent: t.agent,
          headers: {
            ...t.baseHeaders,
            Accept: 'application/json',
            'User-Agent': this.userAgent,
            ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {}),
          },
          timeout: this.requestTimeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(networkError(operation, e)));
          res.on('end', () => {
            clearTimeout(budget);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (text !== '') {
              try {
                parsed = JSON.parse(text);
              } catch {
                // Keep the text; it goes into the error message.
              }
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(text === '' ? undefined : parsed);
            else reject(kubeErrorFromStatus(status, parsed, operation));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)));
      req.on('error', (e) => {
        clearTimeout(budget);
        reject(networkError(operation, e));
      });
      req.on('close', () => clearTimeout(budget));
      // The socket timeout above only fires on inactivity; a caller with a deadline (the lease
      // elector) needs the whole exchange bounded, however slowly bytes trickle in.
      if (deadline !== undefined)
        budget = setTimeout(
          () => {
            req.destroy();
            reject(
              new KubeError({
                status: 0,
                reason: 'Timeout',
                message: `${operation}: no answer within ${timeoutMs} ms`,
                operation,
              }),
            );
          },
          Math.max(0, deadline - Date.now()),
        );
      if (payload) req.write(payload);
      req.end();
    });
  }

  // ---- discovery and paths ---------------------------------------------------------------

  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let p = this.discovery.get(apiVersion);
      if (!p) {
        p = this.discover(apiVersion);
        this.discovery.set(apiVersion, p);
        p.catch(() => this.discovery.delete(apiVersion));
      }
      const found = (await p).get(kind);
      if (found) return found;
      // A CRD may have been installed after we looked; look once more.
      this.discovery.delete(apiVersion);
    }
    throw new KubeError({
      status: 404,
      reason: 'NotFound',
      message: `the server has no resource for kind ${kind} in ${apiVersion}`,
      operation: `discovery ${apiVersion}`,
    });
  }

  private async discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const list = (await this.request('GET', groupVersionPath(apiVersion))) as {
      resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
    };
    const out = new Map<string, ResourceInfo>();
    for (const r of list.resources ?? []) {
      if (r.name.includes('/')) continue; // subresources
      out.set(r.kind, { plural: r.name, namespaced: r.namespaced });
    }
    return out;
  }

  private async path(ref: ObjectRef, withName: boolean, subresource?: string): Promise<string> {
    let info: ResourceInfo;
    if (ref.plural)
      info = { plural: ref.plural, namespaced: ref.namespace !== undefined && ref.namespace !== '' };
    else info = await this.resource(ref.apiVersion, ref.kind);
    let p = groupVersionPath(ref.apiVersion);
    if (info.namespaced && ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    p += `/${info.plural}`;
    if (withName) {
      if (!ref.name) {
        throw new KubeError({
          status: 400,
          reason: 'BadRequest',
          message: `${ref.kind}: a name is required`,
        });
      }
      p += `/${encodeURIComponent(ref.name)}`;
      if (subresource) p += `/${subresource}`;
    }
    return p;
  }

  // ---- object access ---------------------------------------------------------------------

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts: CallOptions = {}): Promise<T> {
    const path = await this.path(ref, true);
    return (await this.request('GET', path, undefined, undefined, opts.timeoutMs)) as T;
  }

  async listWithVersion<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const base = await this.path({ ...ref, name: undefined }, false);
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const q = query({
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: 500,
        continue: cont,
      });
      const page = (await this.request('GET', base + q)) as {
        items?: T[];
        metadata?: { resourceVersion?: string; continue?: string };
      };
      // Lists leave out apiVersion/kind on items; put them back so objects are self-describing.
      const itemKind = ref.kind;
      for (const item of page.items ?? [])
        items.push({ apiVersion: ref.apiVersion, kind: itemKind, ...item });
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async list<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: ListOptions): Promise<T[]> {
    return (await this.listWithVersion<T>(ref, opts)).items;
  }

  async create<T extends KubeObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const ref = refOf(obj);
    const path = opts.subresource
      ? await this.path(ref, true, opts.subresource)
      : await this.path({ ...ref, name: undefined }, false);
    const q = query({ fieldManager: opts.fieldManager });
    return (await this.request('POST', path + q, obj, undefined, opts.timeoutMs)) as T;
  }

  async replace<T extends KubeObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const path = await this.path(refOf(obj), true, opts.subresource);
    const q = query({ fieldManager: opts.fieldManager });
    return (await this.request('PUT', path + q, obj, undefined, opts.timeoutMs)) as T;
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<void> {
    const body =
      opts.propagationPolicy || opts.gracePeriodSeconds !== undefined || opts.preconditions
        ? {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: opts.propagationPolicy,
            gracePeriodSeconds: opts.gracePeriodSeconds,
            preconditions: opts.preconditions,
          }
        : undefined;
    await this.request('DELETE', await this.path(ref, true), body, undefined, opts.timeoutMs);
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: PatchOptions,
  ): Promise<T> {
    if (opts.type === 'apply' && !opts.fieldManager) {
      throw new KubeError({
        status: 400,
        reason: 'BadRequest',
        message: 'server-side apply needs a fieldManager',
      });
    }
    const path = await this.path(ref, true, opts.subresource);
    const q = query({
      fieldManager: opts.fieldManager,
      force: opts.type === 'apply' && opts.force ? 'true' : undefined,
    });
    return (await this.request('PATCH', path + q, patch, contentTypes[opts.type], opts.timeoutMs)) as T;
  }

  async apply<T extends KubeObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; subresource?: 'status' | (string & {}) },
  ): Promise<T> {
    return this.patch<T>(refOf(obj), obj, {
      type: 'apply',
      fieldManager: opts.fieldManager,
      force: opts.force,
      subresource: opts.subresource,
    });
  }

  // ---- watch -----------------------------------------------------------------------------

  async watch(
    ref: ObjectRef,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const t = await this.tls();
    const base = await this.path({ ...ref, name: undefined }, false);
    const q = query({
      watch: '1',
      resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      timeoutSeconds: opts.timeoutSeconds,
      allowWatchBookmarks: opts.allowWatchBookmarks === false ? undefined : 'true',
    });
    const url = new URL(this.server + base + q);
    const operation = `WATCH ${url.pathname}`;
    // The server closes the stream after timeoutSeconds, and sends bookmarks in between. A stream
    // that goes silent (server stopped, network partitioned, half-open TCP) is abandoned after
    // idleTimeoutMs so the cache relists instead of serving stale data for minutes; the hard limit
    // is a backstop for a stream that trickles but never ends.
    const hardLimitMs = ((opts.timeoutSeconds ?? 300) + 30) * 1000;
    const idleTimeoutMs = opts.idleTimeoutMs ?? 90_000;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      let settled = false;
      const finish = (err?: KubeError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(hardTimer);
        clearTimeout(idleTimer);
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish();
      signal?.addEventListener('abort', onAbort);
      const hardTimer = setTimeout(
        () =>
          finish(
            new KubeError({
              status: 0,
              reason: 'Timeout',
              message: 'watch outlived its timeoutSeconds',
              operation,
            }),
          ),
        hardLimitMs,
      );
      hardTimer.unref?.();
      let idleTimer: ReturnType<typeof setTimeout> | undefined;
      const stillTalking = (): void => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(
          () =>
            finish(
              new KubeError({
                status: 0,
                reason: 'Timeout',
                message: `watch silent for ${idleTimeoutMs} ms`,
                operation,
              }),
            ),
          idleTimeoutMs,
        );
        idleTimer.unref?.();
      };
      // Armed from the start: a server that accepts the request and never answers is silent too.
      stillTalking();
      const mod = t.secure ? https : http;
      const req = mod.request(
        url,
        {
          method: 'GET',
          agent: t.agent,
          headers: { ...t.baseHeaders, Accept: 'application/json', 'User-Agent': this.userAgent },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // not JSON
              }
              finish(kubeErrorFromStatus(status, parsed, operation));
            });
            res.on('error', (e) => finish(networkError(operation, e)));
            return;
          }
          // Listen on the response before readline does: readline re-emits input errors on the
          // interface, and an interface without an 'error' listener would throw them instead.
          // Any bytes count as life, even a large object that takes a while to arrive in full.
          stillTalking();
          res.on('data', () => stillTalking());
          res.on('end', () => finish());
          res.on('close', () => finish());
          res.on('error', (e) => finish(networkError(operation, e)));
          const lines = createInterface({ input: res, crlfDelay: Infinity });
          lines.on('error', (e) => finish(networkError(operation, e)));
          lines.on('close', () => finish());
          lines.on('line', (line) => {
            if (settled || line.trim() === '') return;
            let ev: { type?: string; object?: KubeObject };
            try {
              ev = JSON.parse(line) as { type?: string; object?: KubeObject };
            } catch {
              finish(
                new KubeError({
                  status: 0,
                  reason: 'BadWatchEvent',
                  message: 'unparseable watch line',
                  operation,
                }),
              );
              return;
            }
            if (ev.type === 'ERROR') {
              finish(kubeErrorFromStatus(0, ev.object, operation));
              return;
            }
            if (!ev.object || !isWatchType(ev.type)) return;
            try {
              onEvent(ev.type, ev.object);
            } catch (e) {
              this.logger.error('watch event handler threw', { error: e, operation });
            }
          });
        },
      );
      req.on('error', (e) => finish(networkError(operation, e)));
      req.end();
    });
  }

  watchCache<T extends KubeObject = KubeObject>(opts: WatchCacheOptions): ResourceCache<T> {
    return new ResourceCache<T>(this, { ...opts, logger: opts.logger ?? this.logger });
  }

  close(): void {
    void this.transport?.then((t) => t.agent.destroy()).catch(() => undefined);
  }
}

function isWatchType(t: string | undefined): t is WatchEventType {
  return t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED' || t === 'BOOKMARK';
}

function headersOf(o: https.RequestOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) out[k] = String(v);
  if (o.auth && !out['Authorization'])
    out['Authorization'] = `Basic ${Buffer.from(o.auth).toString('base64')}`;
  return out;
}

function networkError(operation: string, e: Error): KubeError {
  const code = (e as { code?: string }).code;
  return new KubeError({
    status: 0,
    reason: 'NetworkError',
    message: `${operation}: ${code ? `${code} ` : ''}${e.message}`,
    operation,
  });
}

function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

function refOf(obj: KubeObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind) {
    throw new KubeError({ status: 400, reason: 'BadRequest', message: 'object needs apiVersion and kind' });
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
  };
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
