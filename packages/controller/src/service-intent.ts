import {
  findServiceAnnotation,
  isOurLoadBalancer,
  readServiceAnnotation,
  type ServiceAnnotationName,
} from '@metallb-ts/api';
import type { Family, ServiceRequest } from '@metallb-ts/ipam';
import type { Service } from '@metallb-ts/k8s-runtime';

/**
 * What the controller should do with one Service, read from the object alone.
 * `invalid` still carries a request (without the faulty requested IPs) so the addresses the
 * Service already holds can be kept reserved while the user fixes the typo.
 */
export type ServiceIntent =
  | { kind: 'ignore'; reason: string; notOurs: 'type' | 'class' }
  | { kind: 'invalid'; reason: string; request: ServiceRequest; current: string[] }
  | { kind: 'allocate'; request: ServiceRequest; current: string[] };

export interface IntentOptions {
  /** Without a class only services with no `spec.loadBalancerClass` are ours; with one, only that class. */
  loadBalancerClass?: string;
  /** Labels of a namespace, for pools whose serviceAllocation selects namespaces by label. */
  namespaceLabels?: (namespace: string) => Record<string, string> | undefined;
}

/** The addresses a Service's status shows, in order. */
export function currentIngress(svc: Service | undefined): string[] {
  return (svc?.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
}

export function serviceIntent(svc: Service, opts: IntentOptions = {}): ServiceIntent {
  const spec = svc.spec ?? {};
  const ours = isOurLoadBalancer(svc, opts.loadBalancerClass);
  if (!ours.ours)
    return { kind: 'ignore', notOurs: spec.type !== 'LoadBalancer' ? 'type' : 'class', reason: ours.reason };
  const annotations = svc.metadata?.annotations ?? {};
  const families = familiesOf(svc);
  const sharingKey = readServiceAnnotation(annotations, 'allow-shared-ip');
  const request: ServiceRequest = {
    namespace: svc.metadata?.namespace ?? '',
    labels: svc.metadata?.labels ?? {},
    requestedIPs: [],
    families,
    familyPolicy: familyPolicyOf(spec.ipFamilyPolicy),
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
  const current = currentIngress(svc);

  const fromAnnotation = readServiceAnnotation(annotations, 'loadBalancerIPs');
  const fromSpec = spec.loadBalancerIP;
  if (fromAnnotation && fromSpec) {
    return {
      kind: 'invalid',
      reason: `spec.loadBalancerIP "${fromSpec}" and annotation loadBalancerIPs "${fromAnnotation}" are both set; use only the annotation`,
      request,
      current,
    };
  }
  request.requestedIPs = (fromAnnotation ?? fromSpec ?? '')
    .split(',')
    // Spaces around commas go, as Go's strings.TrimSpace drops them in MetalLB; a byte-order mark
    // is not space (JS's trim() would drop it), so it stays and the refusal names the value as written.
    .map((s) => s.replace(/^[^\S\uFEFF]+|[^\S\uFEFF]+$/g, ''))
    .filter((s) => s.length > 0);
  return { kind: 'allocate', request, current };
}

/** The service's IP families in order: `spec.ipFamilies`, else the families of `spec.clusterIPs`, else IPv4. */
function familiesOf(svc: Service): Family[] {
  const fams = (svc.spec?.ipFamilies ?? []).map((f) => (f === 'IPv6' ? 6 : 4) as Family);
  if (fams.length > 0) return fams;
  const fromClusterIPs = (svc.spec?.clusterIPs ?? [])
    .filter((ip) => ip !== 'None' && ip !== '')
    .map((ip) => (ip.includes(':') ? 6 : 4) as Family);
  return fromClusterIPs.length > 0 ? [...new Set(fromClusterIPs)] : [4];
}

function familyPolicyOf(policy: string | undefined): ServiceRequest['familyPolicy'] {
  // An unknown policy goes through as is: the allocator refuses it with a message naming it.
  return (policy ?? 'SingleStack') as ServiceRequest['familyPolicy'];
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

/** The annotations users write; `ip-allocated-from-pool` is ours, so it is not theirs to rename. */
const USER_ANNOTATIONS: ServiceAnnotationName[] = ['address-pool', 'loadBalancerIPs', 'allow-shared-ip'];

/**
 * The legacy (`metallb.universe.tf/`) annotation keys that are in effect on a Service, i.e. read
 * because no `metallb.io/` twin is set. Sorted, so it can serve as a change signature.
 */
export function legacyAnnotationsInUse(svc: Service): string[] {
  const annotations = svc.metadata?.annotations;
  return USER_ANNOTATIONS.flatMap((name) => {
    const found = findServiceAnnotation(annotations, name);
    return found?.legacy ? [found.key] : [];
  }).sort();
}
