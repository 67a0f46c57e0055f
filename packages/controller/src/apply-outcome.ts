import { ANNOTATIONS, LEGACY_ANNOTATIONS } from '@metallb-ts/api';
import type { EventRecorder, KubeWriter, Service } from '@metallb-ts/k8s-runtime';
import type { ServiceOutcome } from './sync-service.js';

/** The write an outcome needs on a Service: nothing, or one merge patch (see `planServiceWrite`). */
export interface ServiceWrite {
  /** The merge patch: `status` and/or `metadata.annotations`. */
  readonly patch: {
    status?: { loadBalancer: { ingress: { ip: string }[] } };
    metadata?: { annotations: Record<string, string | null> };
  };
  /**
   * 'status' when the patch carries a status: the Service status strategy resets only `spec` on
   * that subresource, so the annotations in the same patch are stored by the same request (one
   * write per allocation instead of two). undefined: the main resource (annotations only).
   */
  readonly subresource: 'status' | undefined;
}

/**
 * Pure: the single merge patch that brings `svc` in line with `outcome`, touching only what
 * differs, or undefined when nothing does (a steady state costs no writes however often the
 * Service is re-synced).
 */
export function planServiceWrite(svc: Service, outcome: ServiceOutcome): ServiceWrite | undefined {
  const patch: ServiceWrite['patch'] = {};
  if (outcome.ingress !== undefined) {
    const current = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
    if (JSON.stringify(current) !== JSON.stringify(outcome.ingress))
      patch.status = { loadBalancer: { ingress: outcome.ingress.map((ip) => ({ ip })) } };
  }
  if (outcome.pool !== undefined) {
    const annotations = svc.metadata?.annotations ?? {};
    const current = annotations[ANNOTATIONS.ipAllocatedFromPool];
    // MetalLB before the metallb.io prefix wrote the legacy key; left alone it would name a pool
    // the Service no longer uses for good. Whenever the annotation is written, drop the old one.
    const legacy = LEGACY_ANNOTATIONS.ipAllocatedFromPool in annotations;
    if ((current ?? null) !== outcome.pool || legacy) {
      const a: Record<string, string | null> = { [ANNOTATIONS.ipAllocatedFromPool]: outcome.pool };
      if (legacy) a[LEGACY_ANNOTATIONS.ipAllocatedFromPool] = null;
      patch.metadata = { annotations: a };
    }
  }
  if (!patch.status && !patch.metadata) return undefined;
  return { patch, subresource: patch.status ? 'status' : undefined };
}

/**
 * Pure: the annotations of `write` that `stored` (what the API server returned) does not carry.
 * Empty when the server kept them all; an API server whose status subresource drops metadata
 * changes leaves them all here, and they are then written to the main resource.
 */
export function annotationsNotStored(
  write: ServiceWrite,
  stored: Service | undefined,
): Record<string, string | null> | undefined {
  const wanted = write.patch.metadata?.annotations;
  if (!wanted) return undefined;
  const have = stored?.metadata?.annotations ?? {};
  const missing = Object.entries(wanted).filter(([k, v]) => (v === null ? k in have : have[k] !== v));
  return missing.length === 0 ? undefined : Object.fromEntries(missing);
}

export interface AppliedWrites {
  /** Requests made (0: nothing differed). */
  readonly writes: number;
  /**
   * resourceVersions our writes produced, in order. Every one but the last is an intermediate
   * state the watch will show before the final one: syncing it would redo the rest of the write.
   */
  readonly versions: string[];
}

/**
 * Pure: the resourceVersions at which the watch still shows a write in flight — the one it was
 * computed against and every intermediate one; not the final one, whose event re-syncs.
 */
export const echoVersions = (computedAgainst: string, produced: readonly string[]): ReadonlySet<string> =>
  new Set([computedAgainst, ...produced.slice(0, -1)]);

/** Writes an outcome to the API server (one request in the normal case) and emits its events. */
export async function applyOutcome(
  kube: Pick<KubeWriter, 'patch'>,
  events: EventRecorder,
  svc: Service | undefined,
  outcome: ServiceOutcome,
): Promise<AppliedWrites> {
  if (!svc?.metadata?.name || !svc.metadata.namespace) return { writes: 0, versions: [] };
  const ref = {
    apiVersion: 'v1',
    kind: 'Service',
    namespace: svc.metadata.namespace,
    name: svc.metadata.name,
  };
  const versions: string[] = [];
  const write = planServiceWrite(svc, outcome);
  if (write) {
    const stored = await kube.patch<Service>(ref, write.patch, {
      type: 'merge',
      subresource: write.subresource,
    });
    versions.push(stored?.metadata?.resourceVersion ?? '');
    const missing = write.subresource === 'status' ? annotationsNotStored(write, stored) : undefined;
    if (missing) {
      const again = await kube.patch<Service>(ref, { metadata: { annotations: missing } }, { type: 'merge' });
      versions.push(again?.metadata?.resourceVersion ?? '');
    }
  }
  for (const e of outcome.events) events.emit(svc, e.type, e.reason, e.message);
  return { writes: versions.length, versions };
}
