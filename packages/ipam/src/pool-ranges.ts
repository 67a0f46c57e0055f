import type { IpValue } from './address.js';
import { joinedRanges } from './address-spec.js';
import type { Pool } from './pool.js';
import type { Family } from './result.js';

interface LocatedRange {
  family: Family;
  first: bigint;
  last: bigint;
  pool: string;
}

/**
 * Which pool an address is in, by binary search over every pool's ranges sorted by family then
 * first address: O(log n) however many pools and ranges. Pools must not overlap (buildPoolSet
 * guarantees it); of two pools with one name, the first listed counts.
 */
export class PoolRanges {
  private readonly ranges: LocatedRange[] = [];

  constructor(pools: readonly Pool[]) {
    const names = new Set<string>();
    for (const pool of pools) {
      if (names.has(pool.name)) continue;
      names.add(pool.name);
      for (const r of joinedRanges(pool.ranges))
        this.ranges.push({ family: r.family, first: r.first, last: r.last, pool: pool.name });
    }
    this.ranges.sort((a, b) =>
      a.family !== b.family ? a.family - b.family : a.first < b.first ? -1 : a.first > b.first ? 1 : 0,
    );
  }

  /** The name of the pool holding `ip`, if any. */
  poolOf(ip: IpValue): string | undefined {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (r.family < ip.family || (r.family === ip.family && r.first <= ip.value)) lo = mid + 1;
      else hi = mid;
    }
    const candidate = this.ranges[lo - 1];
    if (
      candidate &&
      candidate.family === ip.family &&
      candidate.first <= ip.value &&
      ip.value <= candidate.last
    )
      return candidate.pool;
    return undefined;
  }
}
