// One pass over one MetalLB resource (key `namespace/name`), level-based: read the caches, decide
// the lifecycle step (lifecycle.ts: the finalizer on, deploy, or once it is deleted its
// cluster-scoped objects gone and the finalizer off), then render, apply, clean up, read back,
// write conditions. Never branches on what event woke it.
import { GROUP, type Condition, type MetalLB } from '@metallb-ts/api';
import type { EventRecorder, Kube, Logger, ResourceCache } from '@metallb-ts/k8s-runtime';
import { SyncResult } from '@metallb-ts/k8s-runtime';
import { COMPONENTS, FIELD_MANAGERS, METALLB_RESOURCE_NAME, OPERATOR_FINALIZER } from '@metallb-ts/manifests';
import { applyObjects, type AppliedRecord } from './apply-objects.js';
import {
  degradedEvent,
  isProgressing,
  metallbConditions,
  sameConditions,
  type DaemonSetObserved,
  type DeploymentObserved,
  type MetalLBObserved,
  type ResourceEvent,
} from './conditions.js';
import { cleaningUp, decideLifecycle } from './lifecycle.js';
import { deleteObject } from './delete-object.js';
import { deleteLeftovers, releaseMetalLB, type CleanupDeps } from './metallb-cleanup.js';
import { addFinalizer, clusterLeftovers, removeFinalizer } from './metallb-finalizer.js';
import { describeObject, objectId, staleObjects } from './owned-objects.js';
import type { Renderer } from './render-input.js';

/** What the reconciler writes through. */
export type ReconcilerApi = Pick<Kube, 'get' | 'list' | 'apply' | 'delete' | 'patch'>;

export interface ReconcilerCaches {
  /** MetalLB resources in the operator's namespace. */
  readonly metallbs: ResourceCache<MetalLB>;
  /** One cache per `OWNED_KINDS` kind (label-selected to ours), by kind. */
  readonly owned: ReadonlyMap<string, ResourceCache>;
  /** Deployments labelled `ipfailover`, in every namespace. */
  readonly ipFailover: ResourceCache;
}

export interface ReconcilerDeps {
  readonly kube: ReconcilerApi;
  readonly caches: ReconcilerCaches;
  readonly events: EventRecorder;
  readonly logger: Logger;
  /** The operator's namespace: where the one reconciled resource lives and everything goes. */
  readonly namespace: string;
  readonly render: Renderer;
  readonly images: { readonly controller: string; readonly speaker: string };
  /** The operator's version, rendered into the `app.kubernetes.io/version` labels. */
  readonly version: string;
  readonly now?: () => Date;
  /** How soon to look again while the components roll out. Default 5 s. */
  readonly progressRecheckMs?: number;
  /** How soon to look again while cluster-scoped objects of a deleted resource go. Default 2 s. */
  readonly cleanupRecheckMs?: number;
}

/** The label keepalived ipfailover Deployments carry (OpenShift's `oc adm ipfailover`). */
export const IPFAILOVER_LABEL = 'ipfailover';

export class MetalLBReconciler {
  /** Per MetalLB key: what we last applied, to tell a repair from an update. */
  private readonly applied = new Map<string, AppliedRecord>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /** The key of the one resource acted on. */
  get primaryKey(): string {
    return `${this.deps.namespace}/${METALLB_RESOURCE_NAME}`;
  }

  async reconcile(key: string): Promise<SyncResult> {
    const [namespace = '', name = ''] = key.split('/');
    const owner = { namespace, name };
    const logger = this.deps.logger.child({ key });
    const kube = this.deps.kube;
    const metallb = this.deps.caches.metallbs.get(key);
    const resource = metallb && {
      deleting: metallb.metadata.deletionTimestamp !== undefined,
      finalizers: metallb.metadata.finalizers ?? [],
    };
    const leftovers = cleaningUp(resource)
      ? await clusterLeftovers(kube, owner, FIELD_MANAGERS.operator)
      : [];
    const step = decideLifecycle({
      resource,
      managed: key === this.primaryKey,
      finalizer: OPERATOR_FINALIZER,
      leftovers: leftovers.map((o) => ({
        name: describeObject(o),
        terminating: o.metadata?.deletionTimestamp !== undefined,
      })),
    });
    switch (step.step) {
      case 'deploy':
        return this.deploy(step.addFinalizer ? await addFinalizer(kube, metallb!, logger) : metallb!, logger);
      case 'report-unmanaged':
        if (step.removeFinalizer) await removeFinalizer(kube, metallb!, logger, 'not the resource acted on');
        return this.report(metallb!, {
          ...this.observedBase(),
          incorrectName: { actual: key, expected: this.primaryKey },
        });
      case 'delete':
        this.applied.delete(key);
        return deleteLeftovers(
          this.cleanupDeps(),
          owner,
          metallb,
          leftovers.filter((o) => step.objects.includes(describeObject(o))),
          logger,
        );
      case 'wait':
        logger.info('waiting for cluster-scoped objects to go before releasing the MetalLB resource', {
          objects: step.objects,
        });
        return SyncResult.requeueAfter(this.deps.cleanupRecheckMs ?? 2000);
      case 'release':
        return releaseMetalLB(this.cleanupDeps(), owner, metallb!, logger);
      case 'done':
        this.applied.delete(key);
        return SyncResult.ok();
    }
  }

  private observedBase(): Pick<MetalLBObserved, 'deploymentName' | 'daemonSetName'> {
    const ns = this.deps.namespace;
    return {
      deploymentName: `${ns}/${COMPONENTS.controller.workload}`,
      daemonSetName: `${ns}/${COMPONENTS.speaker.workload}`,
    };
  }

  private async deploy(metallb: MetalLB, logger: Logger): Promise<SyncResult> {
    const { namespace, images, version } = this.deps;
    const owner = { namespace, name: METALLB_RESOURCE_NAME, uid: metallb.metadata.uid ?? '' };
    const rendered = this.deps.render({
      namespace,
      spec: metallb.spec ?? {},
      images,
      version,
      owner: { apiVersion: metallb.apiVersion ?? `${GROUP}/v1beta1`, kind: 'MetalLB', ...owner },
    });
    const record = this.applied.get(this.primaryKey) ?? new Map<string, string>();
    this.applied.set(this.primaryKey, record);
    const outcome = await applyObjects(
      { kube: this.deps.kube, fieldManager: FIELD_MANAGERS.operator, caches: this.deps.caches.owned },
      rendered,
      record,
    );
    const existing = [...this.deps.caches.owned.values()].flatMap((c) => c.list());
    const failures = [...outcome.failures];
    for (const stale of staleObjects(rendered, existing, owner, FIELD_MANAGERS.operator)) {
      const failure = await deleteObject(this.deps.kube, stale, logger, 'no longer rendered');
      if (failure) failures.push(failure);
      else record.delete(objectId(stale));
    }
    for (const repair of outcome.repairs) {
      logger.info('repaired drift', { repair });
      await this.emit(metallb, { type: 'Normal', reason: 'Repaired', message: repair });
    }
    const base = this.observedBase();
    const workload = (kind: string, name: string) =>
      outcome.current.get(objectId({ apiVersion: 'apps/v1', kind, metadata: { namespace, name } }));
    const observed: MetalLBObserved = {
      ...base,
      deployment: workload('Deployment', COMPONENTS.controller.workload) as DeploymentObserved | undefined,
      daemonSet: workload('DaemonSet', COMPONENTS.speaker.workload) as DaemonSetObserved | undefined,
      applyFailures: failures,
      ipFailover: this.ipFailoverDeployments(),
    };
    if (failures.length > 0) logger.warn('applying failed', { failures });
    const result = await this.report(metallb, observed);
    if (failures.length > 0)
      return SyncResult.retry(new Error(failures.map((f) => `${f.object}: ${f.error}`).join('; ')));
    return result;
  }

  /** Writes the conditions (when they changed) and tells a new Degraded as a Warning. */
  private async report(metallb: MetalLB, observed: MetalLBObserved): Promise<SyncResult> {
    const previous = metallb.status?.conditions;
    const now = (this.deps.now ?? (() => new Date()))();
    const conditions = metallbConditions(observed, metallb.metadata.generation ?? 0, now, previous);
    if (!sameConditions(previous, conditions)) await this.writeStatus(metallb, conditions);
    const warning = degradedEvent(previous, conditions);
    if (warning) await this.emit(metallb, warning);
    return isProgressing(conditions)
      ? SyncResult.requeueAfter(this.deps.progressRecheckMs ?? 5000)
      : SyncResult.ok();
  }

  private async writeStatus(metallb: MetalLB, conditions: Condition[]): Promise<void> {
    const ref = {
      apiVersion: metallb.apiVersion ?? `${GROUP}/v1beta1`,
      kind: 'MetalLB',
      plural: 'metallbs',
      namespace: metallb.metadata.namespace,
      name: metallb.metadata.name,
    };
    await this.deps.kube.patch(ref, { status: { conditions } }, { type: 'merge', subresource: 'status' });
  }

  private cleanupDeps(): CleanupDeps {
    return {
      kube: this.deps.kube,
      emit: (metallb, e) => this.emit(metallb, e),
      recheckMs: this.deps.cleanupRecheckMs ?? 2000,
    };
  }

  private emit(metallb: MetalLB, e: ResourceEvent): Promise<void> {
    return this.deps.events.emit(metallb, e.type, e.reason, e.message);
  }

  private ipFailoverDeployments(): string[] {
    return this.deps.caches.ipFailover
      .list()
      .filter((d) => d.metadata?.labels?.[IPFAILOVER_LABEL] !== undefined)
      .map((d) => `${d.metadata?.namespace}/${d.metadata?.name}`)
      .sort();
  }
}
