// Who owns what a component creates. Objects a component makes for itself (its Lease, a Secret,
// status objects) carry an ownerReference to the workload or Pod that runs it, so deleting that
// workload (`helm uninstall`, the operator removing the components) lets the garbage collector
// remove them too: nothing of ours is left behind. The owner's uid is read once at start.
import { setTimeout as sleep } from 'node:timers/promises';
import { isForbidden, isNotFound } from './kube-error.js';
import type { KubeReader } from './kube.js';
import type { Logger } from './logger.js';
import type { KubeObject, ObjectRef, OwnerReference } from './types.js';

/** The object that owns what a component creates, in the component's namespace. */
export interface OwnerTarget {
  readonly apiVersion: string;
  readonly kind: string;
  /** Skips discovery when given. */
  readonly plural?: string;
  readonly name: string;
}

export type OwnerReferenceResult = { ok: true; ref: OwnerReference } | { ok: false; error: string };

/**
 * The ownerReference to `obj` as read from the API server, or why there is none. No
 * `blockOwnerDeletion`: setting it needs the right to update the owner's finalizers, and nothing
 * here needs to hold the owner's deletion back. No `controller`: these objects are not the
 * owner's managed replicas.
 */
export function ownerReferenceTo(obj: KubeObject): OwnerReferenceResult {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  const uid = obj.metadata?.uid;
  const what = `${kind ?? '(no kind)'} ${obj.metadata?.namespace ?? ''}/${name ?? '(no name)'}`;
  if (!apiVersion || !kind) return { ok: false, error: `${what}: no apiVersion or kind to refer to` };
  if (!name) return { ok: false, error: `${what}: metadata.name is empty` };
  if (!uid) return { ok: false, error: `${what}: metadata.uid is empty, so nothing can refer to it` };
  return { ok: true, ref: { apiVersion, kind, name, uid } };
}

/** Whether `refs` name exactly `owner` (by uid), as `ownerReferences: [owner]` would. */
export function ownedOnlyBy(refs: readonly OwnerReference[] | undefined, owner: OwnerReference): boolean {
  return refs?.length === 1 && refs[0]!.uid === owner.uid;
}

export interface ResolveOwnerOptions {
  readonly logger: Logger;
  /** Attempts on errors other than not found and forbidden. Default 5. */
  readonly attempts?: number;
  /** First pause between attempts, doubling. Default 500 ms. */
  readonly retryMs?: number;
}

/**
 * Reads `target` in `namespace` and returns the reference to it. Without one (the owner does
 * not exist, e.g. the binary runs as a process outside a cluster; the read is forbidden; the API
 * server did not answer in a few attempts) the component still runs, and the log says that what
 * it creates will outlive it.
 */
export async function resolveOwner(
  kube: Pick<KubeReader, 'get'>,
  namespace: string,
  target: OwnerTarget,
  opts: ResolveOwnerOptions,
): Promise<OwnerReference | undefined> {
  const ref: ObjectRef = { ...target, namespace };
  const owner = `${target.kind} ${namespace}/${target.name}`;
  const without = (reason: string, error?: unknown): undefined => {
    opts.logger.warn('no owner for the objects this creates; they will outlive it', {
      owner,
      reason,
      ...(error !== undefined ? { error } : {}),
    });
    return undefined;
  };
  const attempts = opts.attempts ?? 5;
  let pause = opts.retryMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      const found = ownerReferenceTo(await kube.get(ref));
      if (!found.ok) return without(found.error);
      opts.logger.info('objects this creates are owned by', { owner, uid: found.ref.uid });
      return found.ref;
    } catch (error) {
      if (isNotFound(error)) return without('it does not exist');
      if (isForbidden(error)) return without('reading it is forbidden', error);
      if (attempt >= attempts) return without(`reading it failed ${attempts} times`, error);
      // A timer that holds the process: this runs before anything else does (no server, no
      // watch), so with an unref'd one an unreachable API server emptied the event loop and the
      // binary ended with Node's code 13 (unsettled top-level await), with no line of its own.
      await sleep(pause);
      pause *= 2;
    }
  }
}
