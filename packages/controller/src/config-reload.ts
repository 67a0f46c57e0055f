import type { ConfigPool } from '@metallb-ts/api';
import { parseAddressList, type AddressRange } from '@metallb-ts/ipam';

/** A config edit waits at least this long for the rest of its burst before the reload. */
export const CONFIG_FOLD_MS = 100;

/**
 * Pure: how long a config edit waits before the reload it asks for, given how long the last
 * reload blocked the event loop. Edits until then ride along (the queue holds the key once). A
 * reload of T ms is followed by at least 2T ms for everything else — lease renewals, Service
 * syncs, watch events — so however costly the config, the loop is busy at most a third of the
 * time with it.
 */
export function configReloadDelay(lastReloadMs: number): number {
  return Math.max(CONFIG_FOLD_MS, Math.ceil(2 * lastReloadMs));
}

/** Work done between two yields to the event loop while reading address lists ahead of a reload. */
export const READ_SLICE_MS = 20;

/** What a pool object must look like for its address list to be read ahead. */
interface PoolObjectSpec {
  spec?: unknown;
}

/** Passes over the pool objects while reading ahead: objects arrive while it yields. */
export const READ_AHEAD_PASSES = 4;

/**
 * Reads the address lists of the pool objects `list` returns ahead of a config rebuild,
 * `pause`-ing (a macrotask: lease renewals, watch events and Service syncs run) whenever a slice of
 * READ_SLICE_MS has been spent. Parsing is the long part of a rebuild — a storm of big pools lists
 * ~100,000 entries — and the result is remembered (`parseAddressList`), so the synchronous rebuild
 * that follows finds every list read and only checks pools against each other. Objects that
 * arrived during a pause are read by another pass, up to READ_AHEAD_PASSES. Returns how many
 * lists it read.
 */
export async function readAddressListsAhead(
  list: () => readonly PoolObjectSpec[],
  pause: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
  now: () => number = () => performance.now(),
): Promise<number> {
  const seen = new Set<readonly unknown[]>();
  let sliceStart = now();
  for (let pass = 0; pass < READ_AHEAD_PASSES; pass++) {
    const before = seen.size;
    for (const o of list()) {
      const addresses = (o.spec as { addresses?: unknown } | undefined)?.addresses;
      if (!Array.isArray(addresses) || seen.has(addresses)) continue;
      seen.add(addresses);
      parseAddressList(addresses);
      if (now() - sliceStart >= READ_SLICE_MS) {
        await pause();
        sliceStart = now();
      }
    }
    if (seen.size === before) break;
  }
  return seen.size;
}

/**
 * Whether two served pool sets are the same to the allocator (names, sources, flags, service
 * allocation and every range): an edit that changes none of it needs no pass over every Service.
 * Ranges are usually the very same arrays (address lists are parsed once per list), so this is
 * cheap where writing out every pool with its ranges for a comparison was not.
 */
export function samePools(a: readonly ConfigPool[] | undefined, b: readonly ConfigPool[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i]!;
    return (
      p.name === q.name &&
      p.source.kind === q.source.kind &&
      p.source.namespace === q.source.namespace &&
      p.source.name === q.source.name &&
      p.autoAssign === q.autoAssign &&
      p.avoidBuggyIPs === q.avoidBuggyIPs &&
      p.families.join() === q.families.join() &&
      JSON.stringify(p.serviceAllocation) === JSON.stringify(q.serviceAllocation) &&
      sameRanges(p.ranges, q.ranges)
    );
  });
}

function sameRanges(a: readonly AddressRange[], b: readonly AddressRange[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((r, i) => r.family === b[i]!.family && r.first === b[i]!.first && r.last === b[i]!.last);
}
