/**
 * The one question the election asks about membership: who is alive, and may this speaker
 * announce? Implementations: gossip (the default, `gossip-membership.ts`) and Lease heartbeats
 * (`lease-membership.ts`, kept for tests and as a fallback).
 */

/**
 * - alive: this speaker may announce (it counts itself among the candidates).
 * - fenced: it must not (cut off from a majority, declared dead, no key...); peers take over.
 * - holding: starting up; not announcing until membership settles, so a restart into a healthy
 *   cluster does not fight the current owners.
 */
export type VerdictState = 'alive' | 'fenced' | 'holding';

export interface MembershipVerdict {
  readonly state: VerdictState;
  /** Why, in words, for logs and readiness. */
  readonly reason: string;
}

export interface MembershipSnapshot {
  /** Other speakers believed alive (this node's own name is added or removed by the verdict). */
  readonly alive: ReadonlySet<string>;
  readonly verdict: MembershipVerdict;
  /** When the verdict may change with no event (a hold ending), so the caller looks again then. */
  readonly recheckAt?: number;
}

/** Whether this component is ready, and if not, why (missing key, blocked port...). */
export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
}

export interface MembershipPort {
  /** Starts and resolves once a first snapshot is meaningful (caches synced, socket bound). */
  start(signal: AbortSignal): Promise<void>;
  /** Membership as of `now` (ms since the epoch). Synchronous: fencing must not wait on I/O. */
  snapshot(now: number): MembershipSnapshot;
  /** Called whenever `snapshot` may have changed (joins, deaths, verdict flips). */
  onChange(listener: () => void): void;
  /** Readiness of the membership itself. */
  readiness(): Readiness;
  /** Planned leave: peers take over at once. */
  stop(): Promise<void>;
}

/** The election's alive set: the others, plus ourselves only while the verdict lets us announce. */
export function electionAlive(me: string, snapshot: MembershipSnapshot): Set<string> {
  const alive = new Set(snapshot.alive);
  if (snapshot.verdict.state === 'alive') alive.add(me);
  else alive.delete(me);
  return alive;
}
