import { decide, type MajorityTest, type TieBreak } from './quorum.js';
import type { MemberView } from './view.js';

/**
 * The join handshake: join goes to every member believed up (retried to the silent ones), each
 * answers with an ack; the member is in once the acks (itself included) are a majority of the
 * members it knows that have not left, ties decided like the announce verdict.
 */
export class Joining {
  private readonly sequences = new Set<number>();
  private readonly acks = new Set<string>();
  private nextAt = -Infinity;

  constructor(
    private readonly self: string,
    private readonly retryMs: number,
  ) {}

  /** Starts over (a rejoin at a new incarnation): earlier acks were for the old one. */
  restart(): void {
    this.sequences.clear();
    this.acks.clear();
    this.nextAt = -Infinity;
  }

  /** `from` acked our packet `probe`: counts if that packet was one of our joins. */
  acked(from: string, probe: number): void {
    if (this.sequences.has(probe)) this.acks.add(from);
  }

  sent(sequence: number): void {
    this.sequences.add(sequence);
  }

  get nextAttemptAt(): number {
    return this.nextAt;
  }

  /** 'joined', or the members to send a join to now (empty: wait). */
  progress(view: MemberView, now: number, tieBreaker?: () => TieBreak): 'joined' | string[] {
    const known = view.table.names('alive', 'suspect', 'dead').filter((n) => n !== this.self);
    const lowest = [this.self, ...known].sort()[0] as string;
    const test: MajorityTest = {
      label: 'join acknowledged',
      reached: 1 + known.filter((n) => this.acks.has(n)).length,
      total: 1 + known.length,
      lowestOnOurSide: lowest === this.self || this.acks.has(lowest),
    };
    if (decide([test], tieBreaker).ok) {
      this.restart();
      return 'joined';
    }
    if (now < this.nextAt) return [];
    this.nextAt = now + this.retryMs;
    return view.upOthers().filter((n) => !this.acks.has(n));
  }
}
