// The I/O around the operator's finalizer on a MetalLB resource: reading from the server (not
// the caches, which may not show an object applied a moment ago) the cluster-scoped objects made
// for it, and putting the finalizer on or taking it off. Decisions live in lifecycle.ts.
import { GROUP, type MetalLB } from '@metallb-ts/api';
import type { Kube, KubeObject, Logger } from '@metallb-ts/k8s-runtime';
import { isNotFound } from '@metallb-ts/k8s-runtime';
import { LABELS, OPERATOR_FINALIZER } from '@metallb-ts/manifests';
import { appliedBy, isOwnedBy, OWNED_KINDS } from './owned-objects.js';

export type FinalizerApi = Pick<Kube, 'list' | 'patch'>;

/** `MetalLB namespace/name`, as messages name it. */
export const describeMetalLB = (owner: { namespace: string; name: string }): string =>
  `MetalLB ${owner.namespace}/${owner.name}`;

/**
 * The cluster-scoped objects `manager` applied for the MetalLB resource `owner` (labelled for it)
 * that exist now, listed live. Rejects naming the kind and the selector when a list fails.
 */
export async function clusterLeftovers(
  kube: FinalizerApi,
  owner: { namespace: string; name: string },
  manager: string,
): Promise<KubeObject[]> {
  const labelSelector = `${LABELS.ownerName}=${owner.name},${LABELS.ownerNamespace}=${owner.namespace}`;
  const out: KubeObject[] = [];
  for (const kind of OWNED_KINDS.filter((k) => !k.namespaced)) {
    let items: KubeObject[];
    try {
      items = await kube.list(
        { apiVersion: kind.apiVersion, kind: kind.kind, plural: kind.plural },
        { labelSelector },
      );
    } catch (error) {
      throw new Error(
        `${describeMetalLB(owner)}: listing the ${kind.plural} labelled ${labelSelector} (made for it) failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    out.push(...items.filter((o) => isOwnedBy(o, owner) && appliedBy(o, manager)));
  }
  return out;
}

/**
 * Writes `finalizers` as the resource's whole list, only if it is still the version read
 * (`metadata.resourceVersion`): a list someone changed since is not overwritten (409, retried
 * from a fresh read). Rejects naming the resource, the field, the value and the server's answer.
 */
async function writeFinalizers(
  kube: FinalizerApi,
  metallb: MetalLB,
  finalizers: readonly string[],
  why: string,
): Promise<MetalLB> {
  const owner = { namespace: metallb.metadata.namespace ?? '', name: metallb.metadata.name };
  try {
    return await kube.patch<MetalLB & KubeObject>(
      {
        apiVersion: metallb.apiVersion ?? `${GROUP}/v1beta1`,
        kind: 'MetalLB',
        plural: 'metallbs',
        namespace: owner.namespace,
        name: owner.name,
      },
      { metadata: { finalizers: [...finalizers], resourceVersion: metallb.metadata.resourceVersion } },
      { type: 'merge' },
    );
  } catch (error) {
    throw new Error(
      `${describeMetalLB(owner)}: metadata.finalizers ${JSON.stringify(finalizers)}: writing it (${why}) failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Puts the operator's finalizer on (after any others); the updated resource. */
export async function addFinalizer(kube: FinalizerApi, metallb: MetalLB, logger: Logger): Promise<MetalLB> {
  const finalizers = [...(metallb.metadata.finalizers ?? []), OPERATOR_FINALIZER];
  const updated = await writeFinalizers(
    kube,
    metallb,
    finalizers,
    'so its cluster-scoped objects are deleted before it goes',
  );
  logger.info('added the finalizer', { finalizer: OPERATOR_FINALIZER });
  return updated;
}

/** Takes the operator's finalizer off, keeping the others; a resource already gone is fine. */
export async function removeFinalizer(
  kube: FinalizerApi,
  metallb: MetalLB,
  logger: Logger,
  why: string,
): Promise<void> {
  const finalizers = (metallb.metadata.finalizers ?? []).filter((f) => f !== OPERATOR_FINALIZER);
  try {
    await writeFinalizers(kube, metallb, finalizers, why);
  } catch (error) {
    if (isNotFound((error as Error).cause)) return;
    throw error;
  }
  logger.info('removed the finalizer', { finalizer: OPERATOR_FINALIZER, why });
}
