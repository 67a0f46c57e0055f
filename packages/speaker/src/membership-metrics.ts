import { Counter, Gauge, type Registry } from '@metallb-ts/k8s-runtime';
import { REJECT_LABELS, RTT_BUCKETS_MS, type MembershipMetrics } from '@metallb-ts/membership';

/** Where the exported values come from at scrape time: the state machine's cumulative counters. */
export interface MembershipMetricsSource {
  metrics(): MembershipMetrics | undefined;
  /** 1 while the gossip port is blocked (bind failed, or no acks while the API shows peers). */
  blocked(): boolean;
}

/** The gossip membership's Prometheus metrics (`metallb_ts_membership_*`), read at scrape time. */
export class MembershipPrometheus {
  private readonly failovers: Counter;

  constructor(registry: Registry, source: MembershipMetricsSource) {
    const registers = [registry];
    const snapshot = () => source.metrics();
    new Counter({
      name: 'metallb_ts_membership_rejected_total',
      help: 'Gossip datagrams dropped, by reason (forged: bad-mac, replayed, truncated, malformed, ...)',
      labelNames: ['reason'],
      registers,
      collect() {
        const m = snapshot();
        this.reset();
        for (const r of REJECT_LABELS) this.inc({ reason: r }, m?.rejected[r] ?? 0);
      },
    });
    new Gauge({
      name: 'metallb_ts_membership_members',
      help: 'Members of the gossip membership by status as this speaker sees them',
      labelNames: ['status'],
      registers,
      collect() {
        const m = snapshot();
        for (const s of ['alive', 'suspect', 'dead', 'left'] as const)
          this.set({ status: s }, m?.members[s] ?? 0);
      },
    });
    new Counter({
      name: 'metallb_ts_membership_probe_rtt_seconds_total',
      help: 'Sum of the round-trip times of answered probes (divide by metallb_ts_membership_probes_answered_total)',
      registers,
      collect() {
        this.reset();
        this.inc((snapshot()?.probeRtt.sumMs ?? 0) / 1000);
      },
    });
    new Counter({
      name: 'metallb_ts_membership_probes_answered_total',
      help: 'Probes answered by their target',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot()?.probeRtt.count ?? 0);
      },
    });
    new Gauge({
      name: 'metallb_ts_membership_probe_rtt_le_seconds',
      help: 'Answered probes with a round trip of at most `le` seconds (cumulative, like histogram buckets)',
      labelNames: ['le'],
      registers,
      collect() {
        const counts = snapshot()?.probeRtt.counts ?? [];
        let total = 0;
        RTT_BUCKETS_MS.forEach((le, i) => {
          total += counts[i] ?? 0;
          this.set({ le: String(le / 1000) }, total);
        });
        this.set({ le: '+Inf' }, total + (counts[RTT_BUCKETS_MS.length] ?? 0));
      },
    });
    new Gauge({
      name: 'metallb_ts_membership_port_blocked',
      help: '1 while the gossip port cannot be bound or nobody answers although the API server shows peers',
      registers,
      collect() {
        this.set(source.blocked() ? 1 : 0);
      },
    });
    this.failovers = new Counter({
      name: 'metallb_ts_membership_failovers_total',
      help: 'Members this speaker learned were declared dead (their addresses move), by who declared it',
      labelNames: ['member', 'by'],
      registers,
    });
  }

  failover(member: string, by: string): void {
    this.failovers.inc({ member, by });
  }
}
