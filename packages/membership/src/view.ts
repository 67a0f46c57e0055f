import type { MembershipEvent } from './events.js';
import type { DeathReason, MemberUpdate } from './messages.js';
import type { MajorityTest } from './quorum.js';
import { MemberTable } from './table.js';

/**
 * What this member believes about the others: the table, the ring positions derived from it
 * (targets it probes, watchers of any member), the view majority test, and what each accepted
 * update means as an event.
 */
export class MemberView {
  readonly table: MemberTable;
  private cache = { version: -1, targets: [] as string[] };

  constructor(
    private readonly self: string,
    peers: readonly string[],
    private readonly k: number,
  ) {
    this.table = new MemberTable(peers);
  }

  isUp(name: string): boolean {
    const s = this.table.get(name)?.status;
    return s === 'alive' || s === 'suspect';
  }

  /** Members believed up, other than this one. */
  upOthers(): string[] {
    return this.table.names('alive', 'suspect').filter((n) => n !== this.self);
  }

  /**
   * The ring neighbours of `member` that are up: everyone else in a cluster of at most k+1 (an
   * exact majority test for small clusters), else its ceil(k/2) successors and floor(k/2)
   * predecessors. Symmetric: a member watches exactly the members that watch it, so every probe
   * and every ack is evidence for both ends of the pair.
   */
  neighbours(member: string): string[] {
    const ring = this.table.ring;
    const up = (n: string) => this.isUp(n);
    if (ring.size <= this.k + 1) return ring.names.filter((n) => n !== member && up(n));
    const out = ring.successors(member, Math.ceil(this.k / 2), up);
    for (const p of ring.predecessors(member, Math.floor(this.k / 2), up)) if (!out.includes(p)) out.push(p);
    return out;
  }

  /** Our ring neighbours that are up: the members we probe, our watchers, and our quorum sample. */
  targets(): readonly string[] {
    return this.derived().targets;
  }

  /** The members that watch `member` (its neighbours). */
  watchersOf(member: string): readonly string[] {
    return member === this.self ? this.derived().targets : this.neighbours(member);
  }

  /** Whether `member` and `other` watch each other (a joiner's neighbours hand it the table). */
  near(member: string, other: string): boolean {
    return (
      this.table.ring.size <= this.k + 1 ||
      this.neighbours(member).includes(other) ||
      this.neighbours(other).includes(member)
    );
  }

  /** Members believed up (alive or suspect) against all that have not left; dead ones still count. */
  majorityTest(): MajorityTest {
    const up = this.table.count('alive') + this.table.count('suspect');
    const total = up + this.table.count('dead');
    return {
      label: 'members believed up',
      reached: up,
      total,
      lowestOnOurSide: 2 * up === total && this.lowestIsUp(),
    };
  }

  /**
   * Applies `u` (never about ourselves) with SWIM's precedence. Returns undefined when it changed
   * nothing, else the event it means (undefined event for alive -> alive at a higher incarnation).
   */
  apply(u: MemberUpdate, from: string, reason?: DeathReason): { event?: MembershipEvent } | undefined {
    const applied = this.table.apply(u);
    if (!applied) return undefined;
    const was = applied.previous?.status;
    const { member, incarnation } = u;
    switch (u.status) {
      case 'alive':
        if (was === 'suspect') return { event: { kind: 'member-refuted', member, incarnation } };
        return was === 'alive' ? {} : { event: { kind: 'member-joined', member, incarnation } };
      case 'suspect':
        return { event: { kind: 'member-suspected', member, incarnation, by: from } };
      case 'dead':
        return {
          event: { kind: 'member-dead', member, incarnation, by: from, ...(reason ? { reason } : {}) },
        };
      case 'left':
        return { event: { kind: 'member-left', member, incarnation } };
    }
  }

  private derived(): typeof this.cache {
    if (this.cache.version !== this.table.version) {
      this.cache = { version: this.table.version, targets: this.neighbours(this.self) };
    }
    return this.cache;
  }

  /** Whether the lowest-named member that has not left is up (only asked in a tie: O(members)). */
  private lowestIsUp(): boolean {
    let lowest: string | undefined;
    for (const [n, r] of this.table.entries())
      if (r.status !== 'left' && (lowest === undefined || n < lowest)) lowest = n;
    return lowest !== undefined && this.isUp(lowest);
  }
}
