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
    const make = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['pool'], registers: [registry] });
    const pair = (infix: string, fam: string) => ({
      total: make(`metallb_allocator_${infix}addresses_total`, `Number of usable ${fam}addresses, per pool`),
      inUse: make(
        `metallb_allocator_${infix}addresses_in_use_total`,
        `Number of ${fam}addresses in use, per pool`,
      ),
    });
    this.gauges = { all: pair('', 'IP '), ipv4: pair('ipv4_', 'IPv4 '), ipv6: pair('ipv6_', 'IPv6 ') };
  }

  /**
   * Sets every series from the allocator's stats. Counts are bigints (an IPv6 /64 holds 2^64);
   * gauges are float64, so a huge pool exports as e.g. 1.8446744073709552e+19: exact up to 2^53,
   * then to 16 significant digits, which is what a dashboard needs.
   */
  update(stats: readonly PoolStats[]): void {
    const sums = new Map<string, { total: bigint; inUse: bigint }>();
    const seen = new Set<string>();
    for (const s of stats) {
      const fam = s.family === 4 ? 'ipv4' : 'ipv6';
      this.gauges[fam].total.set({ pool: s.pool }, Number(s.total));
      this.gauges[fam].inUse.set({ pool: s.pool }, Number(s.inUse));
      seen.add(`${fam}\0${s.pool}`);
      const sum = sums.get(s.pool) ?? { total: 0n, inUse: 0n };
      sums.set(s.pool, { total: sum.total + s.total, inUse: sum.inUse + s.inUse });
    }
    for (const [pool, sum] of sums) {
      this.gauges.all.total.set({ pool }, Number(sum.total));
      this.gauges.all.inUse.set({ pool }, Number(sum.inUse));
      seen.add(`all\0${pool}`);
    }
    // A deleted pool (or a family a pool no longer has) must disappear from the scrape, not
    // freeze at its last value.
    for (const series of this.known) {
      if (seen.has(series)) continue;
      const [fam, pool] = series.split('\0') as ['all' | 'ipv4' | 'ipv6', string];
      this.gauges[fam].total.remove({ pool });
      this.gauges[fam].inUse.remove({ pool });
    }
    this.known = seen;
  }
}
