import type { RejectReason } from './result.js';

/** Rejections the codec makes, plus authenticated packets the state machine refuses. */
export type RejectLabel = RejectReason | 'misdirected';
export const REJECT_LABELS: readonly RejectLabel[] = [
  'truncated',
  'too-large',
  'bad-version',
  'bad-mac',
  'unknown-type',
  'malformed',
  'replayed',
  'misdirected',
];

/** Upper bounds (ms) of the probe round-trip histogram buckets. */
export const RTT_BUCKETS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

/** A snapshot: counters only grow, so the speaker exports them as Prometheus counters/histogram. */
export interface MembershipMetrics {
  readonly members: { alive: number; suspect: number; dead: number; left: number };
  readonly rejected: Readonly<Record<RejectLabel, number>>;
  readonly probeRtt: {
    /** Non-cumulative count per RTT_BUCKETS_MS bucket, plus one last bucket for slower acks. */
    readonly counts: readonly number[];
    readonly sumMs: number;
    readonly count: number;
  };
  readonly sent: { packets: number; bytes: number };
  readonly received: { packets: number; bytes: number };
  readonly suspicionsRaised: number;
  readonly deathsDeclared: number;
  readonly refutations: number;
  readonly incarnation: number;
}

export class Counters {
  readonly rejected = Object.fromEntries(REJECT_LABELS.map((r) => [r, 0])) as Record<RejectLabel, number>;
  readonly rtt = new Array<number>(RTT_BUCKETS_MS.length + 1).fill(0);
  rttSum = 0;
  rttCount = 0;
  sentPackets = 0;
  sentBytes = 0;
  receivedPackets = 0;
  receivedBytes = 0;
  suspicionsRaised = 0;
  deathsDeclared = 0;
  refutations = 0;

  observeRtt(ms: number): void {
    let i = RTT_BUCKETS_MS.findIndex((le) => ms <= le);
    if (i < 0) i = RTT_BUCKETS_MS.length;
    this.rtt[i] = (this.rtt[i] as number) + 1;
    this.rttSum += ms;
    this.rttCount++;
  }

  snapshot(members: MembershipMetrics['members'], incarnation: number): MembershipMetrics {
    return {
      members,
      rejected: { ...this.rejected },
      probeRtt: { counts: [...this.rtt], sumMs: this.rttSum, count: this.rttCount },
      sent: { packets: this.sentPackets, bytes: this.sentBytes },
      received: { packets: this.receivedPackets, bytes: this.receivedBytes },
      suspicionsRaised: this.suspicionsRaised,
      deathsDeclared: this.deathsDeclared,
      refutations: this.refutations,
      incarnation,
    };
  }
}
