import { GROUP } from '@metallb-ts/api';
import { isAlreadyExists, isNotFound, type KubeWriter } from '@metallb-ts/k8s-runtime';
import type { L2StatusPlan } from './l2-status.js';

/** What writing ServiceL2Status objects needs from the API. */
export type L2StatusApi = Pick<KubeWriter, 'create' | 'patch' | 'delete'>;

/**
 * Carries out a plan from `planL2Statuses`: creates (then writes status, a subresource), updates
 * status, deletes. An object that already exists or is already gone is not an error.
 */
export async function writeL2StatusPlan(
  kube: L2StatusApi,
  namespace: string,
  plan: L2StatusPlan,
): Promise<void> {
  const ref = (name: string) => ({
    apiVersion: `${GROUP}/v1beta1`,
    kind: 'ServiceL2Status',
    namespace,
    name,
  });
  for (const o of plan.create) {
    const { status, ...rest } = o;
    await kube.create(rest).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
    await kube.patch(ref(o.metadata.name), { status }, { type: 'merge', subresource: 'status' });
  }
  for (const o of plan.update)
    await kube.patch(ref(o.metadata.name), { status: o.status }, { type: 'merge', subresource: 'status' });
  for (const name of plan.delete) {
    await kube.delete(ref(name)).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
}
