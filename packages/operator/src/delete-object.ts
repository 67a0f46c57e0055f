// Deleting one object the operator made, as an outcome: gone (or already gone), or why not.
import type { Kube, KubeObject, Logger } from '@metallb-ts/k8s-runtime';
import { isNotFound } from '@metallb-ts/k8s-runtime';
import type { ApplyFailure } from './conditions.js';
import { describeObject } from './owned-objects.js';

/** Deletes `obj` (`why` goes into the log line); undefined once it is gone, else the failure. */
export async function deleteObject(
  kube: Pick<Kube, 'delete'>,
  obj: KubeObject,
  logger: Logger,
  why: string,
): Promise<ApplyFailure | undefined> {
  try {
    await kube.delete({
      apiVersion: obj.apiVersion ?? '',
      kind: obj.kind ?? '',
      namespace: obj.metadata?.namespace,
      name: obj.metadata?.name,
    });
    logger.info('deleted an object', { object: describeObject(obj), why });
    return undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    return { object: describeObject(obj), error: `delete failed: ${(error as Error).message}` };
  }
}
