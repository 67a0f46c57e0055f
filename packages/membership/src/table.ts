import type { MemberStatus, MemberUpdate } from './messages.js';
import { Ring } from './ring.js';

export interface MemberRecord {
  readonly status: MemberStatus;
  readonly incarnation: number;
}

const RANK: Record<MemberStatus, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/**
 * SWIM's precedence: a higher incarnation wins; at the same incarnation suspect beats alive, dead
 * beats suspect, and a graceful leave beats a death. So only the member itself can clear a
 * suspicion or come back from the dead, by raising its incarnation.
 */
export function supersedes(current: MemberRecord | undefined, update: MemberRecord): boolean {
  if (!current) return true;
  if (update.incarnation !== current.incarnation) return update.incarnation > current.incarnation;
  return RANK[update.status] > RANK[current.status];
}

interface Base {
  readonly records: ReadonlyMap<string, MemberRecord>;
  readonly ring: Ring;
}
const bases = new WeakMap<readonly string[], Base>();

/**
 * The start of every member's table built from the same peer array (alive at incarnation 0 until
 * they speak). Shared copy-on-write: a simulation of 5,000 members holds one copy, not 5,000.
 */
function baseFor(peers: readonly string[]): Base {
  let base = bases.get(peers);
  if (!base) {
    const records = new Map<string, MemberRecord>();
    for (const p of peers) records.set(p, Object.freeze({ status: 'alive', incarnation: 0 }));
    base = { records, ring: Ring.of(records.keys()) };
    bases.set(peers, base);
  }
  return base;
}

/** What this member believes about every member it knows, itself included. */
export class MemberTable {
  private readonly base: ReadonlyMap<string, MemberRecord>;
  private readonly own = new Map<string, MemberRecord>();
  private ringValue: Ring;
  private readonly counts: Record<MemberStatus, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  /** Bumped on every change, so derived values (targets, watchers) can be cached. */
  version = 0;

  constructor(peers: readonly string[]) {
    const base = baseFor(peers);
    this.base = base.records;
    this.ringValue = base.ring;
    this.counts.alive = base.records.size;
  }

  get(name: string): MemberRecord | undefined {
    return this.own.get(name) ?? this.base.get(name);
  }

  get ring(): Ring {
    return this.ringValue;
  }

  count(status: MemberStatus): number {
    return this.counts[status];
  }

  /** Applies `update` when it supersedes what is known; returns the previous record, or false. */
  apply(update: MemberUpdate): { previous: MemberRecord | undefined } | false {
    const previous = this.get(update.member);
    const next: MemberRecord = { status: update.status, incarnation: update.incarnation };
    if (!supersedes(previous, next)) return false;
    this.set(update.member, next);
    return { previous };
  }

  /** Unconditional write (this member's own record, or forgetting a member). */
  set(name: string, record: MemberRecord): void {
    const previous = this.get(name);
    if (previous) this.counts[previous.status]--;
    this.counts[record.status]++;
    this.own.set(name, record);
    if (!this.ringValue.has(name)) this.ringValue = this.ringValue.with(name);
    this.version++;
  }

  /** Every known name, with its record. */
  *entries(): IterableIterator<[string, MemberRecord]> {
    for (const [name, record] of this.own) yield [name, record];
    for (const [name, record] of this.base) if (!this.own.has(name)) yield [name, record];
  }

  /** Names whose status is one of `statuses`. */
  names(...statuses: MemberStatus[]): string[] {
    const out: string[] = [];
    for (const [name, r] of this.entries()) if (statuses.includes(r.status)) out.push(name);
    return out;
  }
}
