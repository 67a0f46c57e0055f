import type { ExistingPools } from '@metallb-ts/api';

/** The part of a ResourceCache the webhook reads. */
export interface PoolCacheView {
  hasSynced(): boolean;
  list(): readonly unknown[];
}

/**
 * `listPools` for the webhook server from the operator's AddressPool and IPAddressPool caches.
 * Throws while either cache has not synced: the server then refuses pools with "try again"
 * instead of accepting an overlap it could not see.
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
