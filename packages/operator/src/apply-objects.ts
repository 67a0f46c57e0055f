// Server-side applies rendered objects, touching only those the server does not already hold as
// rendered, and tells which applies were repairs of something we had put there before.
import type { Kube, KubeObject, ResourceCache } from '@metallb-ts/k8s-runtime';
import { isNotFound, objectKey } from '@metallb-ts/k8s-runtime';
import type { ApplyFailure } from './conditions.js';
import { describeObject, firstDifference, objectId } from './owned-objects.js';

/** What applying needs from the API server. */
export type ApplyApi = Pick<Kube, 'get' | 'apply'>;

export interface ApplyDeps {
  readonly kube: ApplyApi;
  readonly fieldManager: string;
  /** Watch caches of the owned kinds, by kind: a cache hit that matches spares the API a call. */
  readonly caches: ReadonlyMap<string, ResourceCache>;
}

export interface ApplyOutcome {
  /** The server's copy of every object that is in place, by `objectId`. */
  readonly current: ReadonlyMap<string, KubeObject>;
  readonly failures: readonly ApplyFailure[];
  /** One line per object that had been deleted or edited since we applied it, and is back. */
  readonly repairs: readonly string[];
}

/**
 * Per object rendered before, the rendered text we last applied: an object missing or different
 * while that text is still what we render was changed by someone else, and putting it back is a
 * repair. A new render (spec edit, operator upgrade) is an update, not a repair.
 */
export type AppliedRecord = Map<string, string>;

/**
 * Applies `rendered` in order (force, own field manager). An object whose cached or fetched copy
 * already holds every rendered field is left alone. Failures are collected per object, so one
 * refused object does not hold back the others.
 */
export async function applyObjects(
  deps: ApplyDeps,
  rendered: readonly KubeObject[],
  record: AppliedRecord,
): Promise<ApplyOutcome> {
  const current = new Map<string, KubeObject>();
  const failures: ApplyFailure[] = [];
  const repairs: string[] = [];
  for (const wanted of rendered) {
    const id = objectId(wanted);
    const text = JSON.stringify(wanted);
    try {
      const cached = deps.caches.get(wanted.kind ?? '')?.get(objectKey(wanted));
      if (cached && firstDifference(wanted, cached) === undefined) {
        current.set(id, cached);
        record.set(id, text);
        continue;
      }
      // The cache may lag behind our own last write: ask the server before calling it drift.
      const onServer = await getOrUndefined(deps.kube, wanted);
      const changed = onServer && firstDifference(wanted, onServer);
      if (onServer && changed === undefined) {
        current.set(id, onServer);
        record.set(id, text);
        continue;
      }
      const applied = await deps.kube.apply(wanted, { fieldManager: deps.fieldManager, force: true });
      current.set(id, applied);
      if (record.get(id) === text) {
        if (!onServer) repairs.push(`restored deleted ${describeObject(wanted)}`);
        else if (applied.metadata?.resourceVersion !== onServer.metadata?.resourceVersion)
          repairs.push(`restored ${describeObject(wanted)}: ${changed} had been changed`);
      }
      record.set(id, text);
    } catch (error) {
      failures.push({ object: describeObject(wanted), error: (error as Error).message ?? String(error) });
    }
  }
  return { current, failures, repairs };
}

async function getOrUndefined(kube: ApplyApi, obj: KubeObject): Promise<KubeObject | undefined> {
  try {
    return await kube.get({
      apiVersion: obj.apiVersion ?? '',
      kind: obj.kind ?? '',
      namespace: obj.metadata?.namespace,
      name: obj.metadata?.name,
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
