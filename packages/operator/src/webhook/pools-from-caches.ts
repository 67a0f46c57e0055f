import type { ExistingPools } from '@metallb-ts/api';
import type { Kube } from '@metallb-ts/k8s-runtime';

/** The part of a ResourceCache the webhook reads. */
export interface PoolCacheView {
  hasSynced(): boolean;
  list(): readonly unknown[];
}

/**
 * `listPools` for the webhook server from the operator's AddressPool and IPAddressPool caches.
 * Throws while either cache has not synced: the server then refuses pools with "try again"
 * instead of accepting an overlap it could not see. A cache lags the API server by a moment, so
 * two overlapping pools written back to back (one `kubectl apply` of both) can both pass; the
 * controller then serves the older one and reports the other. `poolsFromApi` closes that gap.
 */
export function poolsFromCaches(caches: {
  addressPools: PoolCacheView;
  ipAddressPools: PoolCacheView;
}): () => ExistingPools {
  return () => {
    for (const [what, cache] of Object.entries(caches))
      if (!cache.hasSynced()) throw new Error(`the ${what} cache has not synced`);
    return { addressPools: caches.addressPools.list(), ipAddressPools: caches.ipAddressPools.list() };
  };
}

/**
 * `listPools` reading both pool kinds from the API server on every pool admission: no lag, so
 * back-to-back overlapping pools are caught too, at the price of two LISTs per pool write (rare).
 */
export function poolsFromApi(kube: Pick<Kube, 'list'>, namespace: string): () => Promise<ExistingPools> {
  const ref = (kind: string, plural: string) => ({
    apiVersion: 'metallb.io/v1beta1',
    kind,
    plural,
    namespace,
  });
  return async () => {
    const [addressPools, ipAddressPools] = await Promise.all([
      kube.list(ref('AddressPool', 'addresspools')),
      kube.list(ref('IPAddressPool', 'ipaddresspools')),
    ]);
    return { addressPools, ipAddressPools };
  };
}
