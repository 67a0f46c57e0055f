// The deletion side of a MetalLB resource's lifecycle (lifecycle.ts decides when): delete the
// cluster-scoped objects made for it, then take our finalizer off. Both can be refused; each
// refusal is retried by the work queue and told as a Warning on the resource, so a deletion
// that hangs says why in `kubectl describe metallb`.
import type { MetalLB } from '@metallb-ts/api';
import type { Kube, KubeObject, Logger } from '@metallb-ts/k8s-runtime';
import { SyncResult } from '@metallb-ts/k8s-runtime';
import { OPERATOR_FINALIZER } from '@metallb-ts/manifests';
import { REASONS, type ResourceEvent } from './conditions.js';
import { deleteObject } from './delete-object.js';
import { describeMetalLB, removeFinalizer } from './metallb-finalizer.js';

export interface CleanupDeps {
  readonly kube: Pick<Kube, 'delete' | 'list' | 'patch'>;
  /** Records an event on the resource. */
  readonly emit: (metallb: MetalLB, e: ResourceEvent) => Promise<void>;
  /** How soon to look again while the deletions are under way. */
  readonly recheckMs: number;
}

type ResourceKey = { readonly namespace: string; readonly name: string };

/**
 * Deletes what is left, then looks again soon (the deletions may still be under way). A refusal
 * is retried and told as a Warning on the resource while it still exists (its finalizer stays).
 */
export async function deleteLeftovers(
  deps: CleanupDeps,
  owner: ResourceKey,
  metallb: MetalLB | undefined,
  objects: readonly KubeObject[],
  logger: Logger,
): Promise<SyncResult> {
  const errors: string[] = [];
  for (const obj of objects) {
    const failure = await deleteObject(deps.kube, obj, logger, 'its MetalLB resource is deleted');
    if (failure) errors.push(`${failure.object}: ${failure.error}`);
  }
  if (errors.length === 0) return SyncResult.requeueAfter(deps.recheckMs);
  const message = `${describeMetalLB(owner)} is deleted, but what was made for it could not be (retrying; finalizer ${OPERATOR_FINALIZER} kept until it is gone): ${errors.join('; ')}`;
  logger.warn('deleting the cluster-scoped objects failed', { errors });
  if (metallb) await deps.emit(metallb, { type: 'Warning', reason: REASONS.cleanupFailed, message });
  return SyncResult.retry(new Error(message));
}

/**
 * Takes our finalizer off once everything made for the resource is gone. The patch passes the
 * operator's own validating webhook, which has no endpoint while the operator's pod restarts:
 * a refusal is retried, and nothing the operator watches changes when the webhook is back, so
 * only that retry ends the deletion.
 */
export async function releaseMetalLB(
  deps: CleanupDeps,
  owner: ResourceKey,
  metallb: MetalLB,
  logger: Logger,
): Promise<SyncResult> {
  try {
    await removeFinalizer(deps.kube, metallb, logger, 'every cluster-scoped object made for it is gone');
    return SyncResult.ok();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const message = `${describeMetalLB(owner)}: everything made for it is gone, but removing finalizer ${OPERATOR_FINALIZER} failed (retrying): ${why}`;
    await deps.emit(metallb, { type: 'Warning', reason: REASONS.cleanupFailed, message });
    return SyncResult.retry(new Error(message));
  }
}
