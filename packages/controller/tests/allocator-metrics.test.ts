import { describe, expect, it } from '@jest/globals';
import { Registry } from '@metallb-ts/k8s-runtime';
import type { PoolStats } from '@metallb-ts/ipam';
import { AllocatorMetrics } from '../src/allocator-metrics.js';

/** `name{pool="p"} value` lines of one scrape, as a map. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    const m = /^(metallb_allocator_\w+)\{pool="([^"]+)"\} (\S+)$/.exec(line);
    if (m) out.set(`${m[1]}/${m[2]}`, Number(m[3]));
  }
  return out;
}

const stat = (pool: string, family: 4 | 6, total: bigint, inUse: bigint): PoolStats => ({
  pool,
  family,
  total,
  inUse,
  available: total - inUse,
});

describe('AllocatorMetrics', () => {
  it('exports MetalLB names per pool, per family and summed; a /64 exports as 2^64 (float)', async () => {
    const registry = new Registry();
    const m = new AllocatorMetrics(registry);
    m.update([stat('dual', 4, 16n, 2n), stat('dual', 6, 2n ** 64n, 1n), stat('v4', 4, 256n, 0n)]);
    const s = await scrape(registry);
    expect(s.get('metallb_allocator_addresses_total/v4')).toBe(256);
    expect(s.get('metallb_allocator_addresses_in_use_total/dual')).toBe(3);
    expect(s.get('metallb_allocator_ipv4_addresses_total/dual')).toBe(16);
    expect(s.get('metallb_allocator_ipv6_addresses_in_use_total/dual')).toBe(1);
    // Parsed back the way Prometheus would (float64): 2^64 and 2^64+16 are the same float.
    expect(s.get('metallb_allocator_ipv6_addresses_total/dual')).toBe(2 ** 64);
    expect(s.get('metallb_allocator_addresses_total/dual')).toBe(2 ** 64);
    expect(Number.isFinite(s.get('metallb_allocator_addresses_total/dual'))).toBe(true);
    expect(s.has('metallb_allocator_ipv6_addresses_total/v4')).toBe(false);
  });

  it('a deleted pool, or a family a pool lost, disappears from the scrape', async () => {
    const registry = new Registry();
    const m = new AllocatorMetrics(registry);
    m.update([stat('dual', 4, 16n, 2n), stat('dual', 6, 256n, 1n), stat('gone', 4, 4n, 0n)]);
    m.update([stat('dual', 4, 16n, 3n)]);
    const s = await scrape(registry);
    expect([...s.keys()].filter((k) => k.endsWith('/gone'))).toEqual([]);
    expect(s.has('metallb_allocator_ipv6_addresses_total/dual')).toBe(false);
    expect(s.get('metallb_allocator_ipv4_addresses_in_use_total/dual')).toBe(3);
    expect(s.get('metallb_allocator_addresses_total/dual')).toBe(16);
  });
});
