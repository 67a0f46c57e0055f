/**
 * The two-node tie-break through the API server, as pure arithmetic on one Lease: what to do on
 * the next attempt, and what to answer the membership now. Every time is the local monotonic
 * clock (ms); the Lease's own timestamps are never compared with it, so clock skew between nodes
 * does not matter (only their rates must agree within `safetyMarginMs` per `leaseDurationMs`).
 *
 * Safety: a holder answers 'granted' only until `sentAt + leaseDurationMs - safetyMarginMs`, where
 * `sentAt` is when it SENT the read that started its last successful acquire or renew. The other
 * side takes the Lease only after seeing the same holder and renewTime unchanged for
 * `leaseDurationMs`, counted from when it first saw that renewTime, which was written after the
 * holder sent its request. So a holder cut off from the API server stops believing it holds the
 * Lease before anyone else can take it.
 */
import type { TieBreak } from '@metallb-ts/membership';

export interface TieBreakTiming {
  /** Written into the Lease (whole seconds): how long the others wait for an unrenewed holder. */
  readonly leaseDurationMs: number;
  /** The holder stops answering 'granted' this much before a renewal would expire. */
  readonly safetyMarginMs: number;
  /** Between renewals while holding (and the tie lasts). */
  readonly renewIntervalMs: number;
  /** Between attempts while not holding (and the tie lasts). */
  readonly retryIntervalMs: number;
}

export const DEFAULT_TIE_BREAK_TIMING: TieBreakTiming = {
  leaseDurationMs: 5000,
  safetyMarginMs: 1500,
  renewIntervalMs: 1000,
  retryIntervalMs: 500,
};

/** Why `t` cannot keep the rule safe (or undefined). */
export function tieBreakTimingProblem(t: TieBreakTiming): string | undefined {
  if (!Number.isInteger(t.leaseDurationMs / 1000) || t.leaseDurationMs < 1000)
    return `tie-break leaseDurationMs must be whole seconds >= 1000 (the Lease holds seconds), got ${t.leaseDurationMs}`;
  if (!(t.safetyMarginMs > 0 && t.safetyMarginMs < t.leaseDurationMs))
    return `tie-break safetyMarginMs must be in (0, leaseDurationMs = ${t.leaseDurationMs}), got ${t.safetyMarginMs}`;
  if (!(t.renewIntervalMs > 0 && t.renewIntervalMs < t.leaseDurationMs - t.safetyMarginMs))
    return `tie-break renewIntervalMs (${t.renewIntervalMs}) must be > 0 and below leaseDurationMs - safetyMarginMs (${t.leaseDurationMs - t.safetyMarginMs}), or a healthy holder would lapse between renewals`;
  if (!(t.retryIntervalMs > 0)) return `tie-break retryIntervalMs must be > 0, got ${t.retryIntervalMs}`;
  return undefined;
}

/** What the API server said the Lease holds (absent: it does not exist). */
export interface LeaseRecord {
  /** '' when released. */
  readonly holder: string;
  readonly renewTime: string;
  readonly durationMs: number;
}

/** A holder and renewTime as first seen, on our clock. */
export interface Observation {
  readonly holder: string;
  readonly renewTime: string;
  readonly durationMs: number;
  readonly since: number;
}

export interface TieBreakState {
  /** Send time of the read that began our last successful acquire or renew; unset: not holding. */
  readonly heldSentAt?: number;
  /** The identity (side of the tie) that hold was for: it grants nothing to another side. */
  readonly heldAs?: string;
  /** The Lease as last read, and since when it looked like that. */
  readonly observed?: Observation;
}

/**
 * The observation after reading `lease` at `now`. A Lease that vanished keeps the last
 * observation: a holder that still believes it holds must be waited out even then.
 */
export function observe(
  prev: Observation | undefined,
  lease: LeaseRecord | undefined,
  now: number,
): Observation | undefined {
  if (!lease) return prev;
  if (prev && prev.holder === lease.holder && prev.renewTime === lease.renewTime) return prev;
  return { holder: lease.holder, renewTime: lease.renewTime, durationMs: lease.durationMs, since: now };
}

/** When another holder's Lease lapses by our clock (undefined: nobody else holds it). */
export function otherHolderUntil(observed: Observation | undefined, me: string): number | undefined {
  if (!observed || observed.holder === '' || observed.holder === me) return undefined;
  return observed.since + observed.durationMs;
}

export type LeasePlan =
  | { readonly kind: 'create' }
  /** Take it: released, lapsed, or ours (a renewal). */
  | { readonly kind: 'take'; readonly renewal: boolean }
  | { readonly kind: 'wait'; readonly holder: string; readonly until: number };

/**
 * What to do after reading the Lease (`lease` undefined: not found) with `observed` already
 * updated by `observe`.
 */
export function planAttempt(
  me: string,
  lease: LeaseRecord | undefined,
  observed: Observation | undefined,
  now: number,
): LeasePlan {
  const until = otherHolderUntil(observed, me);
  if (until !== undefined && now < until) return { kind: 'wait', holder: observed!.holder, until };
  if (!lease) return { kind: 'create' };
  return { kind: 'take', renewal: lease.holder === me };
}

/** Until when a successful acquire or renew whose read was sent at `sentAt` lets us answer 'granted'. */
export function grantedUntil(sentAt: number, t: TieBreakTiming): number {
  return sentAt + t.leaseDurationMs - t.safetyMarginMs;
}

/**
 * The membership's answer at `now`: granted while our last hold is fresh; denied while another
 * node's is; unknown otherwise (no answer yet, or the API server is silent): the membership
 * fences on both, safety first.
 */
export function tieBreakAnswer(s: TieBreakState, me: string, now: number, t: TieBreakTiming): TieBreak {
  if (s.heldSentAt !== undefined && s.heldAs === me && now < grantedUntil(s.heldSentAt, t)) return 'granted';
  const until = otherHolderUntil(s.observed, me);
  return until !== undefined && now < until ? 'denied' : 'unknown';
}

/** When the answer changes next with no new input (so the caller recomputes then), if ever. */
export function answerChangesAt(
  s: TieBreakState,
  me: string,
  now: number,
  t: TieBreakTiming,
): number | undefined {
  const times = [
    s.heldSentAt !== undefined ? grantedUntil(s.heldSentAt, t) : undefined,
    otherHolderUntil(s.observed, me),
  ].filter((x): x is number => x !== undefined && x > now);
  return times.length > 0 ? Math.min(...times) : undefined;
}
