// The whole Controller in a unit test: k8s-runtime's in-memory API server (real ResourceCaches
// over its list/watch, merge patches that come back as watch events) plus what only these tests
// need: a record of every patch, kinds whose main resource may not be patched, and an event
// recorder that keeps what it was told.
import { expect } from '@jest/globals';
import {
  createRegistry,
  createK8sClientMetrics,
  eventReference,
  KubeError,
  silentLogger,
} from '@metallb-ts/k8s-runtime';
import type {
  EventObjectRef,
  EventRecorder,
  KubeObject,
  ObjectRef,
  PatchOptions,
} from '@metallb-ts/k8s-runtime';
import { eventually, FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { AllocatorMetrics } from '../src/allocator-metrics.js';
import { Controller } from '../src/controller.js';

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
  /** The reference the real recorder would write (undefined: it would refuse the object). */
  ref: EventObjectRef | undefined;
}

/** Records each patch and refuses the forbidden ones before the API server applies them. */
class PatchRecordingKube extends FakeKube {
  constructor(private readonly cluster: FakeCluster) {
    super();
  }

  override async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: PatchOptions,
  ): Promise<T> {
    const { cluster } = this;
    if (cluster.forbidden.has(ref.kind) && opts.subresource === undefined) {
      cluster.refused++;
      throw new KubeError({ status: 403, reason: 'Forbidden', message: `cannot patch ${ref.kind}` });
    }
    cluster.patches.push({
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
      patch: structuredClone(patch),
      subresource: opts.subresource,
    });
    return super.patch<T>(ref, patch, opts);
  }
}

export class FakeCluster {
  readonly kube: FakeKube = new PatchRecordingKube(this);
  readonly patches: Patch[] = [];
  /** Kinds whose main resource (not status) may not be patched, as with RBAC limited to status. */
  readonly forbidden = new Set<string>();
  refused = 0;
  readonly events: Emitted[] = [];

  /** Creates or replaces an object (as a user would), bumping its resourceVersion. */
  put(obj: KubeObject): void {
    this.kube.put(obj);
  }

  remove(kind: string, ns: string | undefined, name: string): void {
    this.kube.remove(kind, ns, name);
  }

  get<T extends KubeObject>(kind: string, ns: string | undefined, name: string): T | undefined {
    return this.kube.find<T>(kind, ns, name);
  }

  readonly recorder: EventRecorder = {
    emit: async (obj, _type, reason, message) => {
      const ref = eventReference(obj);
      this.events.push({ kind: obj.kind ?? '', name: obj.metadata?.name ?? '', reason, message, ref });
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
    kube: cluster.kube,
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

export { eventually };

/** Lets queued work run (the queue and caches work on timers and microtasks). */
export const settle = () => new Promise((r) => setTimeout(r, 50));

export const ipPool = (name: string, addresses: string[], extra: Record<string, unknown> = {}): KubeObject =>
  ({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: NS },
    spec: { addresses, ...extra },
  }) as KubeObject;

export const l2Advertisement = (name: string, ipAddressPools: string[]): KubeObject =>
  ({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name, namespace: NS },
    spec: { ipAddressPools },
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

/**
 * A Controller started over two pools of one address each, `auto` (10.0.0.0) and `reserved`
 * (10.0.1.0, given only to a Service that asks for it), once it has given 10.0.0.0 to the Service
 * `holder` in namespace default. Stop the controller at the end of the test.
 */
export async function startWithAddressHeld(
  holder: string,
): Promise<{ cluster: FakeCluster; controller: Controller }> {
  const cluster = new FakeCluster();
  cluster.put(ipPool('auto', ['10.0.0.0/32']));
  cluster.put(ipPool('reserved', ['10.0.1.0/32'], { autoAssign: false }));
  cluster.put(lbService(holder));
  const controller = await startController(cluster);
  try {
    await eventually(() =>
      expect(ingressOf(cluster.get('Service', 'default', holder))).toEqual(['10.0.0.0']),
    );
  } catch (e) {
    // The test never gets the controller to stop.
    await controller.stop();
    throw e;
  }
  return { cluster, controller };
}
