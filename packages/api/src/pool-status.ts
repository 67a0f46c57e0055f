import type { PoolStats } from '@metallb-ts/ipam';
import type { PoolStatus } from './types.js';

/**
 * The largest count written to status. The API stores int64, but a JSON number above 2^53 loses
 * precision (2^63-1 would serialise as 9223372036854776000 and overflow), and an IPv6 /64 alone
 * holds 2^64 addresses; so counts are capped here and the cap documented on the CRD.
 */
export const MAX_STATUS_COUNT = Number.MAX_SAFE_INTEGER;

function capped(value: bigint): number {
  return value > BigInt(MAX_STATUS_COUNT) ? MAX_STATUS_COUNT : Number(value);
}

/** The usage fields of a pool's status, from the allocator's stats (absent families count 0). */
export function poolStatusFor(
  stats: readonly PoolStats[],
  pool: string,
): Required<Omit<PoolStatus, 'conditions'>> {
  const status = { assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 };
  for (const s of stats) {
    if (s.pool !== pool) continue;
    if (s.family === 4) {
      status.assignedIPv4 = capped(s.inUse);
      status.availableIPv4 = capped(s.available);
    } else {
      status.assignedIPv6 = capped(s.inUse);
      status.availableIPv6 = capped(s.available);
    }
  }
  return status;
}
