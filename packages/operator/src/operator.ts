// Wires the watch caches and the work queue to the MetalLB reconciler. Every change to a MetalLB
// resource enqueues its key; every change to an object we deploy (drift) or to an ipfailover
// Deployment enqueues the one resource acted on.
import { setMaxListeners } from 'node:events';
import { GROUP, type MetalLB } from '@metallb-ts/api';
import type { EventRecorder, Kube, Logger, ResourceCache } from '@metallb-ts/k8s-runtime';
import { WorkQueue } from '@metallb-ts/k8s-runtime';
import { IPFAILOVER_LABEL, MetalLBReconciler, type ReconcilerApi } from './metallb-reconciler.js';
import { OWNED_KINDS, OWNED_SELECTOR } from './owned-objects.js';
import type { Renderer } from './render-input.js';

/** What the operator needs from the API server. */
export type OperatorApi = ReconcilerApi & Pick<Kube, 'watchCache'>;

export interface OperatorDeps {
  readonly kube: OperatorApi;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly namespace: string;
  readonly render: Renderer;
  readonly images: { readonly controller: string; readonly speaker: string };
  readonly version: string;
  readonly now?: () => Date;
  readonly progressRecheckMs?: number;
  readonly cleanupRecheckMs?: number;
}

export class Operator {
  private readonly queue: WorkQueue;
  private readonly metallbs: ResourceCache<MetalLB>;
  private readonly owned: Map<string, ResourceCache>;
  private readonly ipFailover: ResourceCache;
  private readonly reconciler: MetalLBReconciler;
  private running: Promise<void> | undefined;
  private started = false;

  constructor(deps: OperatorDeps) {
    const { kube, namespace, logger } = deps;
    this.metallbs = kube.watchCache<MetalLB>({
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'MetalLB',
      plural: 'metallbs',
      namespace,
      logger,
    });
    this.owned = new Map(
      OWNED_KINDS.map((k) => [
        k.kind,
        kube.watchCache({
          apiVersion: k.apiVersion,
          kind: k.kind,
          plural: k.plural,
          namespace: k.namespaced ? namespace : undefined,
          labelSelector: OWNED_SELECTOR,
          logger,
        }),
      ]),
    );
    this.ipFailover = kube.watchCache({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      plural: 'deployments',
      labelSelector: IPFAILOVER_LABEL,
      logger,
    });
    this.reconciler = new MetalLBReconciler({
      ...deps,
      caches: { metallbs: this.metallbs, owned: this.owned, ipFailover: this.ipFailover },
    });
    this.queue = new WorkQueue({ name: 'metallb', logger, baseDelayMs: 500, maxDelayMs: 60_000 });
  }

  /** True once the caches are synced and the first pass is queued. */
  get ready(): boolean {
    return this.started;
  }

  private caches(): ResourceCache[] {
    return [this.metallbs as ResourceCache, ...this.owned.values(), this.ipFailover];
  }

  /** Starts the caches and the queue; resolves once the caches are synced and work is queued. */
  async start(signal: AbortSignal): Promise<void> {
    // One listener per cache while they sync.
    setMaxListeners(this.caches().length + 10, signal);
    await Promise.all(this.caches().map((c) => c.waitForSync(signal)));
    const primary = this.reconciler.primaryKey;
    this.metallbs.onChange((key) => this.queue.add(key));
    for (const c of [...this.owned.values(), this.ipFailover]) c.onChange(() => this.queue.add(primary));
    for (const key of this.metallbs.keys()) this.queue.add(key);
    // Also when it is absent: it may have been deleted while no operator ran.
    this.queue.add(primary);
    this.running = this.queue.run((key) => this.reconciler.reconcile(key));
    this.started = true;
  }

  /** Finishes the pass in flight, then stops the caches. */
  async stop(): Promise<void> {
    await this.queue.shutdown();
    await this.running;
    await Promise.all(this.caches().map((c) => c.stop()));
  }
}
