// An in-memory API server just big enough to run the whole Controller in a unit test: real
// ResourceCaches over a fake list/watch, merge patches that come back as watch events, and an
// event recorder that keeps what it was told.
import {
  createRegistry,
  createK8sClientMetrics,
  KubeError,
  ResourceCache,
  silentLogger,
} from '@metallb-ts/k8s-runtime';
import type {
  EventRecorder,
  Kube,
  KubeObject,
  ObjectRef,
  PatchOptions,
  WatchEventType,
} from '@metallb-ts/k8s-runtime';
import { AllocatorMetrics } from '../src/allocator-metrics.js';
import { Controller } from '../src/controller.js';

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

type Watcher = { kind: string; ns?: string; onEvent: (t: WatchEventType, o: KubeObject) => void };

export interface Patch {
  kind: string;
  namespace?: string;
  name?: string;
  patch: unknown;
  subresource?: string;
}

export interface Emitted {
  kind: string;
  name: string;
  reason: string;
  message: string;
}

export class FakeCluster {
  private rv = 1;
  readonly objects = new Map<string, KubeObject>();
  private readonly watchers = new Set<Watcher>();
  readonly patches: Patch[] = [];
  /** Kinds whose main resource (not status) may not be patched, as with RBAC limited to status. */
  readonly forbidden = new Set<string>();
  refused = 0;
  readonly events: Emitted[] = [];

  private key(kind: string, ns: string | undefined, name: string | undefined): string {
    return `${kind}/${ns ?? ''}/${name ?? ''}`;
  }

  private notify(type: WatchEventType, obj: KubeObject): void {
    for (const w of this.watchers) {
      if (w.kind === obj.kind && (!w.ns || w.ns === obj.metadata?.namespace)) w.onEvent(type, clone(obj));
    }
  }

  /** Creates or replaces an object (as a user would), bumping its resourceVersion. */
  put(obj: KubeObject): void {
    const k = this.key(obj.kind!, obj.metadata?.namespace, obj.metadata?.name);
    const existed = this.objects.has(k);
    const stored = clone(obj);
    this.rv++;
    stored.metadata = {
      uid: `uid-${obj.metadata?.name}`,
      creationTimestamp: new Date(1_700_000_000_000 + this.rv * 1000).toISOString(),
      ...this.objects.get(k)?.metadata,
      ...stored.metadata,
      resourceVersion: String(this.rv),
    };
    this.objects.set(k, stored);
    this.notify(existed ? 'MODIFIED' : 'ADDED', stored);
  }

  remove(kind: string, ns: string | undefined, name: string): void {
    const k = this.key(kind, ns, name);
    const o = this.objects.get(k);
    if (!o) return;
    this.objects.delete(k);
    this.notify('DELETED', o);
  }

  get<T extends KubeObject>(kind: string, ns: string | undefined, name: string): T | undefined {
    return this.objects.get(this.key(kind, ns, name)) as T | undefined;
  }

  readonly kube = {
    server: 'fake',
    logger: silentLogger,
    listWithVersion: async (ref: ObjectRef) => ({
      items: [...this.objects.values()]
        .filter((o) => o.kind === ref.kind && (!ref.namespace || o.metadata?.namespace === ref.namespace))
        .map(clone),
      resourceVersion: String(this.rv),
    }),
    watch: (
      ref: ObjectRef,
      _opts: unknown,
      onEvent: (t: WatchEventType, o: KubeObject) => void,
      signal?: AbortSignal,
    ) =>
      new Promise<void>((resolve) => {
        const w: Watcher = { kind: ref.kind, ns: ref.namespace, onEvent };
        this.watchers.add(w);
        signal?.addEventListener('abort', () => {
          this.watchers.delete(w);
          resolve();
        });
      }),
    watchCache: <T extends KubeObject>(opts: ConstructorParameters<typeof ResourceCache<T>>[1]) =>
      new ResourceCache<T>(this.kube as unknown as Kube, opts),
    patch: async (ref: ObjectRef, patch: unknown, opts: PatchOptions) => {
      if (this.forbidden.has(ref.kind) && opts.subresource === undefined && ++this.refused)
        throw new KubeError({ status: 403, reason: 'Forbidden', message: `cannot patch ${ref.kind}` });
      this.patches.push({
        kind: ref.kind,
        namespace: ref.namespace,
        name: ref.name,
        patch: clone(patch),
        subresource: opts.subresource,
      });
      const k = this.key(ref.kind, ref.namespace, ref.name);
      const cur = this.objects.get(k);
      if (!cur) throw new Error(`${k} not found`);
      this.rv++;
      const next = mergePatch(cur, patch) as KubeObject;
      next.metadata = { ...next.metadata, resourceVersion: String(this.rv) };
      this.objects.set(k, next);
      this.notify('MODIFIED', next);
      return clone(next);
    },
  };

  readonly recorder: EventRecorder = {
    emit: async (obj, _type, reason, message) => {
      this.events.push({ kind: obj.kind ?? '', name: obj.name ?? '', reason, message });
    },
  };
}

export const NS = 'metallb-system';

/** A started Controller over `cluster`; stop it at the end of the test. */
export async function startController(cluster: FakeCluster): Promise<Controller> {
  return (await startWithMetrics(cluster)).controller;
}

/** Also returns how many Service syncs the controller ran so far. */
export async function startWithMetrics(
  cluster: FakeCluster,
): Promise<{ controller: Controller; syncs: () => Promise<number> }> {
  const registry = createRegistry();
  const clientMetrics = createK8sClientMetrics(registry);
  const controller = new Controller({
    kube: cluster.kube as unknown as Kube,
    events: cluster.recorder,
    logger: silentLogger,
    namespace: NS,
    allocatorMetrics: new AllocatorMetrics(registry),
    clientMetrics,
  });
  await controller.start(new AbortController().signal);
  const syncs = async () => (await clientMetrics.updates.get()).values[0]?.value ?? 0;
  return { controller, syncs };
}

/** Polls until `check` passes (every 5 ms, up to 2 s), then asserts it one last time. */
export async function eventually(check: () => void | Promise<void>): Promise<void> {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Lets queued work run (the queue and caches work on timers and microtasks). */
export const settle = () => new Promise((r) => setTimeout(r, 50));

export const ipPool = (name: string, addresses: string[], extra: Record<string, unknown> = {}): KubeObject =>
  ({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: NS },
    spec: { addresses, ...extra },
  }) as KubeObject;

export const lbService = (
  name: string,
  extra: { annotations?: Record<string, string>; loadBalancerIP?: string; namespace?: string } = {},
): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: extra.namespace ?? 'default',
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ port: 80, protocol: 'TCP' }],
      ...(extra.loadBalancerIP ? { loadBalancerIP: extra.loadBalancerIP } : {}),
    },
  }) as KubeObject;

export const ingressOf = (o: KubeObject | undefined): string[] =>
  (
    (o as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } } | undefined)?.status?.loadBalancer
      ?.ingress ?? []
  ).flatMap((i) => (i.ip ? [i.ip] : []));
