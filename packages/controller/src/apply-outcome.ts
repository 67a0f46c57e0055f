import { ANNOTATIONS, LEGACY_ANNOTATIONS } from '@metallb-ts/api';
import type { EventRecorder, KubeWriter, Service } from '@metallb-ts/k8s-runtime';
import type { ServiceOutcome } from './sync-service.js';

/**
 * Writes an outcome to the API server, touching only what differs, so a steady state costs no
 * writes however often the service is re-synced.
 */
export async function applyOutcome(
  kube: Pick<KubeWriter, 'patch'>,
  events: EventRecorder,
  svc: Service | undefined,
  outcome: ServiceOutcome,
): Promise<number> {
  if (!svc?.metadata?.name || !svc.metadata.namespace) return 0;
  const ref = {
    apiVersion: 'v1',
    kind: 'Service',
    namespace: svc.metadata.namespace,
    name: svc.metadata.name,
  };
  let writes = 0;
  if (outcome.ingress !== undefined) {
    const current = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
    if (JSON.stringify(current) !== JSON.stringify(outcome.ingress)) {
      await kube.patch(
        ref,
        { status: { loadBalancer: { ingress: outcome.ingress.map((ip) => ({ ip })) } } },
        { type: 'merge', subresource: 'status' },
      );
      writes++;
    }
  }
  if (outcome.pool !== undefined) {
    const annotations = svc.metadata.annotations ?? {};
    const current = annotations[ANNOTATIONS.ipAllocatedFromPool];
    // MetalLB before the metallb.io prefix wrote the legacy key; left alone it would name a pool
    // the Service no longer uses for good. Whenever the annotation is written, drop the old one.
    const legacy = LEGACY_ANNOTATIONS.ipAllocatedFromPool in annotations;
    if ((current ?? null) !== outcome.pool || legacy) {
      const patch: Record<string, string | null> = { [ANNOTATIONS.ipAllocatedFromPool]: outcome.pool };
      if (legacy) patch[LEGACY_ANNOTATIONS.ipAllocatedFromPool] = null;
      await kube.patch(ref, { metadata: { annotations: patch } }, { type: 'merge' });
      writes++;
    }
  }
  for (const e of outcome.events) events.emit(svc, e.type, e.reason, e.message);
  return writes;
}
