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
  private cache = { version: -1, targets: [] as string[], watchers: [] as string[] };

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
   * How many successors each member probes: k, or everyone else in a cluster of at most 2k+1,
   * so small clusters (the common case) get an exact majority test.
   */
  fanout(): number {
    return this.table.ring.size <= 2 * this.k + 1 ? this.table.ring.size : this.k;
  }

  /** Our ring successors that are up: the members we probe, and our quorum sample. */
  targets(): readonly string[] {
    return this.derived().targets;
  }

  watchersOf(member: string): readonly string[] {
    if (member === this.self) return this.derived().watchers;
    return this.table.ring.predecessors(member, this.fanout(), (n) => this.isUp(n));
  }

  /** Whether `member` probes `other` or is probed by it (a joiner's neighbours hand it the table). */
  near(member: string, other: string): boolean {
    const k = this.fanout();
    const up = (n: string) => this.isUp(n);
    return (
      this.table.ring.size <= 2 * this.k + 1 ||
      this.table.ring.successors(member, k, up).includes(other) ||
      this.table.ring.predecessors(member, k, up).includes(other)
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
      const k = this.fanout();
      const up = (n: string) => this.isUp(n);
      this.cache = {
        version: this.table.version,
        targets: this.table.ring.successors(this.self, k, up),
        watchers: this.table.ring.predecessors(this.self, k, up),
      };
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
