// A FakeKube with server-side apply (create, or merge into what is there) and a renderer small
// enough to read, so the real Operator runs against it.
import type { MetalLB } from '@metallb-ts/api';
import {
  KubeError,
  recorder,
  silentLogger,
  type ApplyOptions,
  type KubeObject,
  type ObjectRef,
  type PatchOptions,
} from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { APP_NAME, COMPONENTS, LABELS } from '@metallb-ts/manifests';
import { Operator } from '../src/operator.js';
import type { Renderer, RenderInput } from '../src/render-input.js';

export const NS = 'metallb-system';

/**
 * FakeKube (with its server-side apply) that records applies and can refuse some kinds, and
 * honours finalizers as an API server does: deleting an object that has some only sets its
 * deletionTimestamp; it goes once a write leaves it without finalizers. A merge patch carrying
 * `metadata.resourceVersion` is refused with 409 when the object has changed since.
 */
export class ApplyingFakeKube extends FakeKube {
  /** Kinds whose apply is refused, with the message. */
  readonly refuse = new Map<string, string>();
  applies: string[] = [];

  /** Kinds whose deletion is refused, with the message. */
  readonly refuseDelete = new Map<string, string>();

  /**
   * Kinds whose merge patches of the object itself are refused, with the message: what the API
   * server answers while the validating webhook has no endpoint. A status patch (a subresource)
   * never reaches the webhook, so it passes.
   */
  readonly refusePatch = new Map<string, string>();
  /** `Kind name` of every patch refused so far. */
  readonly refusedPatches: string[] = [];

  override async delete(ref: ObjectRef): Promise<void> {
    const refused = this.refuseDelete.get(ref.kind);
    if (refused) throw new KubeError({ status: 403, reason: 'Forbidden', message: refused });
    const cur = this.find(ref.kind, ref.namespace, ref.name ?? '');
    if (!cur || (cur.metadata?.finalizers ?? []).length === 0) return super.delete(ref);
    if (cur.metadata?.deletionTimestamp === undefined)
      this.put({ ...cur, metadata: { ...cur.metadata, deletionTimestamp: new Date().toISOString() } });
  }

  override async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: PatchOptions,
  ): Promise<T> {
    const unreachable = opts.subresource === undefined ? this.refusePatch.get(ref.kind) : undefined;
    if (opts.type === 'merge' && unreachable) {
      this.refusedPatches.push(`${ref.kind} ${ref.name}`);
      throw new KubeError({ status: 500, reason: 'InternalError', message: unreachable });
    }
    const cur = this.find(ref.kind, ref.namespace, ref.name ?? '');
    const rv = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (opts.type === 'merge' && cur && rv !== undefined && rv !== cur.metadata?.resourceVersion)
      throw new KubeError({ status: 409, reason: 'Conflict', message: 'the object has been modified' });
    const out = await super.patch<T>(ref, patch, opts);
    if (out.metadata?.deletionTimestamp !== undefined && (out.metadata.finalizers ?? []).length === 0)
      this.remove(ref.kind, ref.namespace, ref.name ?? '');
    return out;
  }

  override async apply<T extends KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    if (opts.force !== true) throw new Error(`apply of ${obj.kind} ${obj.metadata?.name} without force`);
    this.applies.push(`${obj.kind} ${obj.metadata?.name}`);
    const refused = this.refuse.get(obj.kind ?? '');
    if (refused) throw new KubeError({ status: 403, reason: 'Forbidden', message: refused });
    return super.apply(obj, opts);
  }
}

const meta = (input: RenderInput, name: string, namespaced = true) => ({
  name,
  ...(namespaced ? { namespace: input.namespace } : {}),
  labels: {
    [LABELS.name]: APP_NAME,
    ...(namespaced
      ? {}
      : { [LABELS.ownerName]: input.owner!.name, [LABELS.ownerNamespace]: input.namespace }),
  },
  ...(namespaced
    ? {
        ownerReferences: [
          {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'MetalLB',
            name: input.owner!.name,
            uid: input.owner!.uid,
            controller: true,
          },
        ],
      }
    : {}),
});

/** A renderer in the shape of the real one: accounts, RBAC, the two workloads; `extra` adds one. */
export function fakeRenderer(opts: { extra?: () => boolean } = {}) {
  return (input: RenderInput): KubeObject[] => {
    const env = [{ name: 'LOG_LEVEL', value: input.spec.logLevel ?? 'info' }];
    const out: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: meta(input, COMPONENTS.controller.serviceAccount),
      },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(input, COMPONENTS.speaker.serviceAccount) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: meta(input, COMPONENTS.speaker.clusterRole, false),
        rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
      } as KubeObject,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(input, COMPONENTS.controller.workload),
        spec: {
          replicas: 1,
          template: { spec: { containers: [{ name: 'controller', image: input.images.controller, env }] } },
        },
      } as KubeObject,
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: meta(input, COMPONENTS.speaker.workload),
        spec: {
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
          template: { spec: { containers: [{ name: 'speaker', image: input.images.speaker, env }] } },
        },
      } as KubeObject,
    ];
    if (opts.extra?.())
      out.push({ apiVersion: 'v1', kind: 'Service', metadata: meta(input, 'extra-metrics') } as KubeObject);
    return out;
  };
}

/** The MetalLB resource `name` in NS: an empty spec at generation 1 and no finalizers unless told. */
export function metallb(
  name: string,
  opts: { spec?: MetalLB['spec']; generation?: number; finalizers?: string[] } = {},
): MetalLB {
  const { spec = {}, generation = 1, finalizers } = opts;
  return {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'MetalLB',
    metadata: { name, namespace: NS, generation, ...(finalizers ? { finalizers } : {}) },
    spec,
  };
}

export function startOperator(
  opts: {
    extra?: () => boolean;
    render?: Renderer;
    kube?: ApplyingFakeKube;
    images?: { controller: string; speaker: string };
    version?: string;
  } = {},
) {
  const kube = opts.kube ?? new ApplyingFakeKube();
  const abort = new AbortController();
  const operator = new Operator({
    kube,
    events: recorder(kube, { component: COMPONENTS.operator.eventSource }),
    logger: silentLogger,
    namespace: NS,
    render: opts.render ?? fakeRenderer(opts),
    images: opts.images ?? { controller: 'ctl:1', speaker: 'spk:1' },
    version: opts.version ?? '0.1.0',
    progressRecheckMs: 20,
    cleanupRecheckMs: 20,
  });
  return {
    kube,
    operator,
    start: () => operator.start(abort.signal),
    stop: async () => {
      abort.abort();
      await operator.stop();
    },
  };
}

/** `kubectl delete` of the MetalLB resource `name`: with finalizers it stays, terminating. */
export function deleteMetalLB(kube: ApplyingFakeKube, name: string): Promise<void> {
  return kube.delete({ apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', namespace: NS, name });
}

/** Events recorded on an object, as `type reason: message`. */
export function eventsOn(kube: FakeKube, name: string): string[] {
  return [...kube.objects.values()]
    .filter(
      (o) =>
        o.kind === 'Event' && (o as { involvedObject?: { name?: string } }).involvedObject?.name === name,
    )
    .map((o) => {
      const e = o as unknown as { type: string; reason: string; message: string };
      return `${e.type} ${e.reason}: ${e.message}`;
    });
}

export function condition(kube: FakeKube, name: string, type: string) {
  const m = kube.find<MetalLB>('MetalLB', NS, name);
  return m?.status?.conditions?.find((c) => c.type === type);
}
