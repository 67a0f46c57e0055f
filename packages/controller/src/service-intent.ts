import { readServiceAnnotation } from '@metallb-ts/api';
import type { Family, ServiceRequest } from '@metallb-ts/ipam';
import type { Service } from '@metallb-ts/k8s-runtime';

/** What the controller should do with one Service, read from the object alone. */
export type ServiceIntent =
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'allocate'; request: ServiceRequest; current: string[] };

export interface IntentOptions {
  /** Without a class only services with no `spec.loadBalancerClass` are ours; with one, only that class. */
  loadBalancerClass?: string;
  /** Labels of a namespace, for pools whose serviceAllocation selects namespaces by label. */
  namespaceLabels?: (namespace: string) => Record<string, string> | undefined;
}

export function serviceIntent(svc: Service, opts: IntentOptions = {}): ServiceIntent {
  const spec = svc.spec ?? {};
  if (spec.type !== 'LoadBalancer') return { kind: 'ignore', reason: `type is ${spec.type ?? 'ClusterIP'}, not LoadBalancer` };
  const cls = spec.loadBalancerClass;
  if ((opts.loadBalancerClass ?? undefined) !== (cls ?? undefined)) {
    return { kind: 'ignore', reason: `loadBalancerClass ${cls ?? '(none)'} is not ours (${opts.loadBalancerClass ?? '(none)'})` };
  }
  const annotations = svc.metadata?.annotations ?? {};

  const fromAnnotation = readServiceAnnotation(annotations, 'loadBalancerIPs');
  const fromSpec = spec.loadBalancerIP;
  if (fromAnnotation && fromSpec) {
    return {
      kind: 'invalid',
      reason: `spec.loadBalancerIP "${fromSpec}" and annotation loadBalancerIPs "${fromAnnotation}" are both set; use only the annotation`,
    };
  }
  const requestedIPs = (fromAnnotation ?? fromSpec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

  const families = familiesOf(svc);
  const sharingKey = readServiceAnnotation(annotations, 'allow-shared-ip');
  const request: ServiceRequest = {
    namespace: svc.metadata?.namespace ?? '',
    labels: svc.metadata?.labels ?? {},
    requestedIPs,
    families,
    familyPolicy: (spec.ipFamilyPolicy as ServiceRequest['familyPolicy'] | undefined) ?? 'SingleStack',
  };
  const nsLabels = opts.namespaceLabels?.(request.namespace);
  if (nsLabels) request.namespaceLabels = nsLabels;
  const pool = readServiceAnnotation(annotations, 'address-pool');
  if (pool) request.pool = pool;
  if (sharingKey) {
    request.sharing = {
      key: sharingKey,
      ports: (spec.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port })),
      backend: backendKey(svc),
    };
  }
  const current = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
  return { kind: 'allocate', request, current };
}

function familiesOf(svc: Service): Family[] {
  const fams = (svc.spec?.ipFamilies ?? []).map((f) => (f === 'IPv6' ? 6 : 4) as Family);
  return fams.length > 0 ? fams : [4];
}

/**
 * Services may share an IP only when traffic for it would reach the same backends: two Cluster
 * services, or two Local services selecting the same pods.
 */
function backendKey(svc: Service): string {
  if (svc.spec?.externalTrafficPolicy !== 'Local') return 'Cluster';
  const selector = Object.entries(svc.spec?.selector ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `Local:${JSON.stringify(selector)}`;
}
