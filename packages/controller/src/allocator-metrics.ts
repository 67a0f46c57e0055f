import type { PoolStats } from '@metallb-ts/ipam';
import { Gauge, type Registry } from '@metallb-ts/k8s-runtime';

/**
 * Pool usage as MetalLB dashboards read it. The per-family series are separate metric names, not a
 * label on the upstream ones, so existing `sum by (pool)` queries keep their meaning.
 */
export class AllocatorMetrics {
  private readonly gauges: Record<'all' | 'ipv4' | 'ipv6', { total: Gauge; inUse: Gauge }>;
  private known = new Set<string>();

  constructor(registry: Registry) {
    const make = (name: string, help: string) => new Gauge({ name, help, labelNames: ['pool'], registers: [registry] });
    const pair = (infix: string, fam: string) => ({
      total: make(`metallb_allocator_${infix}addresses_total`, `Number of usable ${fam}addresses, per pool`),
      inUse: make(`metallb_allocator_${infix}addresses_in_use_total`, `Number of ${fam}addresses in use, per pool`),
    });
    this.gauges = { all: pair('', 'IP '), ipv4: pair('ipv4_', 'IPv4 '), ipv6: pair('ipv6_', 'IPv6 ') };
  }

  update(stats: PoolStats[]): void {
    const sums = new Map<string, { total: bigint; inUse: bigint }>();
    for (const s of stats) {
      const fam = s.family === 4 ? this.gauges.ipv4 : this.gauges.ipv6;
      fam.total.set({ pool: s.pool }, Number(s.total));
      fam.inUse.set({ pool: s.pool }, Number(s.inUse));
      const sum = sums.get(s.pool) ?? { total: 0n, inUse: 0n };
      sums.set(s.pool, { total: sum.total + s.total, inUse: sum.inUse + s.inUse });
    }
    for (const [pool, sum] of sums) {
      this.gauges.all.total.set({ pool }, Number(sum.total));
      this.gauges.all.inUse.set({ pool }, Number(sum.inUse));
    }
    // A deleted pool must disappear from the scrape, not freeze at its last value.
    for (const pool of this.known) {
      if (sums.has(pool)) continue;
      for (const g of Object.values(this.gauges)) {
        g.total.remove({ pool });
        g.inUse.remove({ pool });
      }
    }
    this.known = new Set(sums.keys());
  }
}
