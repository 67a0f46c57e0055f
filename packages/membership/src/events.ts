import type { DeathReason } from './messages.js';
import type { AnnounceVerdict } from './quorum.js';

/** A datagram to send: the adapter maps the member name to its address. */
export interface Outgoing {
  readonly to: string;
  readonly bytes: Buffer;
}

/** What changed, for logs ("who declared whom dead and why") and for the speaker's recompute. */
export type MembershipEvent =
  | { readonly kind: 'member-joined'; readonly member: string; readonly incarnation: number }
  | { readonly kind: 'member-refuted'; readonly member: string; readonly incarnation: number }
  | {
      readonly kind: 'member-suspected';
      readonly member: string;
      readonly incarnation: number;
      /** Who told us (ourselves when our own probes failed). */
      readonly by: string;
    }
  | {
      readonly kind: 'member-dead';
      readonly member: string;
      readonly incarnation: number;
      readonly by: string;
      /** The declarer's reason; undefined when we only heard a piggybacked rumour. */
      readonly reason?: DeathReason;
    }
  | { readonly kind: 'member-left'; readonly member: string; readonly incarnation: number }
  /** We were suspected and refuted it by raising our incarnation. */
  | { readonly kind: 'self-refuted'; readonly by: string; readonly incarnation: number }
  /** Others declared us dead: we lost every announcement and rejoin at `incarnation`. */
  | { readonly kind: 'self-declared-dead'; readonly by: string; readonly incarnation: number }
  | { readonly kind: 'self-joined'; readonly incarnation: number }
  | { readonly kind: 'verdict-changed'; readonly verdict: AnnounceVerdict };

/** The outputs of one call: packets to send and what changed. */
export interface StepResult {
  readonly send: Outgoing[];
  readonly events: MembershipEvent[];
}

export function emptyStep(): StepResult {
  return { send: [], events: [] };
}
