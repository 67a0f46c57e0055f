/** The API group of every metallb-ts object (the same as MetalLB's). */
export const GROUP = 'metallb.io';
export const DEFAULT_NAMESPACE = 'metallb-system';

export const ANNOTATION_PREFIX = 'metallb.io/';
/** MetalLB's original prefix; still read so existing manifests keep working. */
export const LEGACY_ANNOTATION_PREFIX = 'metallb.universe.tf/';

export type ServiceAnnotationName =
  'address-pool' | 'loadBalancerIPs' | 'allow-shared-ip' | 'ip-allocated-from-pool';

export const ANNOTATIONS = {
  addressPool: 'metallb.io/address-pool',
  loadBalancerIPs: 'metallb.io/loadBalancerIPs',
  allowSharedIP: 'metallb.io/allow-shared-ip',
  ipAllocatedFromPool: 'metallb.io/ip-allocated-from-pool',
} as const;

export const LEGACY_ANNOTATIONS = {
  addressPool: 'metallb.universe.tf/address-pool',
  loadBalancerIPs: 'metallb.universe.tf/loadBalancerIPs',
  allowSharedIP: 'metallb.universe.tf/allow-shared-ip',
  ipAllocatedFromPool: 'metallb.universe.tf/ip-allocated-from-pool',
} as const;

/** Labels the speaker puts on ServiceL2Status objects so they can be listed per node or service. */
export const SERVICE_L2_STATUS_LABELS = {
  node: 'metallb.io/node',
  serviceName: 'metallb.io/service-name',
  serviceNamespace: 'metallb.io/service-namespace',
} as const;

/** Where a service annotation was found; `legacy` means the old prefix (worth a deprecation event). */
export interface FoundAnnotation {
  key: string;
  value: string;
  legacy: boolean;
}

/** Finds a service annotation under the new prefix, then under the legacy one. */
export function findServiceAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  name: ServiceAnnotationName,
): FoundAnnotation | undefined {
  if (annotations === undefined || annotations === null) return undefined;
  for (const [prefix, legacy] of [
    [ANNOTATION_PREFIX, false],
    [LEGACY_ANNOTATION_PREFIX, true],
  ] as const) {
    const key = prefix + name;
    if (Object.prototype.hasOwnProperty.call(annotations, key)) {
      const value = annotations[key];
      if (typeof value === 'string') return { key, value, legacy };
    }
  }
  return undefined;
}

/** The value of a service annotation, new prefix first, then the legacy one. */
export function readServiceAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  name: ServiceAnnotationName,
): string | undefined {
  return findServiceAnnotation(annotations, name)?.value;
}
