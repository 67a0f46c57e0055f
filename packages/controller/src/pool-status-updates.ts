import { poolStatusFor, type PoolStatus } from '@metallb-ts/api';
import type { PoolStats } from '@metallb-ts/ipam';

/** A pool object as the status writer needs it (IPAddressPool or AddressPool). */
export interface PoolObjectView {
  kind: 'IPAddressPool' | 'AddressPool';
  apiVersion?: string;
  metadata?: { namespace?: string; name?: string; resourceVersion?: string };
  status?: PoolStatus;
}

export type UsageStatus = ReturnType<typeof poolStatusFor>;

export interface PoolStatusUpdate {
  kind: PoolObjectView['kind'];
  apiVersion: string;
  namespace: string;
  name: string;
  /** The version of the object the comparison was made against. */
  resourceVersion: string;
  status: UsageStatus;
}

const FIELDS = ['assignedIPv4', 'assignedIPv6', 'availableIPv4', 'availableIPv6'] as const;

/** The key `served` uses for a pool object: the pool name alone would not tell duplicates apart. */
export const servedPoolKey = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ''}/${name}`;

/**
 * Which pool objects need a status write: those whose usage fields differ from what the
 * allocator says. Objects whose pool is not served (never valid) are left alone: counting
 * nothing for them would read as "empty pool" rather than "broken pool". `served` holds the
 * servedPoolKey of the objects actually served, so an object that lost a name clash (an
 * AddressPool and an IPAddressPool of one name) is not shown the winner's usage.
 */
export function poolStatusUpdates(
  objects: readonly PoolObjectView[],
  stats: readonly PoolStats[],
  served: ReadonlySet<string>,
): PoolStatusUpdate[] {
  const out: PoolStatusUpdate[] = [];
  for (const o of objects) {
    const name = o.metadata?.name;
    if (!name || !served.has(servedPoolKey(o.kind, o.metadata?.namespace, name))) continue;
    const status = poolStatusFor(stats, name);
    if (FIELDS.every((f) => o.status?.[f] === status[f])) continue;
    out.push({
      kind: o.kind,
      apiVersion: o.apiVersion ?? 'metallb.io/v1beta1',
      namespace: o.metadata?.namespace ?? '',
      name,
      resourceVersion: o.metadata?.resourceVersion ?? '',
      status,
    });
  }
  return out;
}
