/**
 * May this member announce? Pure: every input is a value.
 *
 * Two majority tests, both must pass:
 * - reach: this member plus the ring neighbours it heard from in the last `quorumWindowMs` must
 *   be more than half of itself plus all its neighbours. After a stall of its own, a neighbour
 *   counts only once it answered a probe sent since (packets queued while it was stopped prove
 *   nothing). In a cluster of at most k+1 members it probes everyone, so this is an exact
 *   majority; in a large cluster it is a sample of k that goes silent within `quorumWindowMs`
 *   when this member is cut off.
 * Only a member whose verdict is ok suspects or declares others, so a cut-off minority (or the
 * losing half of a tie) never declares the majority dead.
 * - view: members it believes alive or suspect (itself included) must be more than half of the
 *   members it knows that have not left. Dead members stay in the denominator (a partition looks
 *   like deaths) until they leave gracefully or the speaker forgets them (Node deleted).
 *
 * An exact half is a tie (two nodes, or an even split). With a `tieBreaker` (the speaker backs it
 * with the API server, e.g. a Lease, asked only while a tie lasts) the tie-breaker alone decides.
 * Without one, the half holding the lowest-named member wins: both halves compute the same answer
 * without talking, so at most one side announces; for two nodes, the lower-named survivor keeps
 * announcing and the higher-named one goes silent.
 */
export type TieBreak = 'granted' | 'denied' | 'unknown';

export type Phase = 'joining' | 'member' | 'declared-dead' | 'left';

export type FenceReason =
  /** Starting: not yet acknowledged by a majority of the members it knows. */
  | 'joining'
  /** Others declared it dead (it was stopped or cut off); rejoining at a higher incarnation. */
  | 'declared-dead'
  /** It left gracefully. */
  | 'left'
  /** It reaches no majority of the members it knows. */
  | 'fenced-minority'
  /** It reaches exactly half and the tie went to the other half (or the tie-breaker is unsure). */
  | 'fenced-tie';

export type AnnounceVerdict =
  | { readonly ok: true; readonly basis: 'majority' | 'tie-breaker' | 'lowest-name' }
  | { readonly ok: false; readonly reason: FenceReason; readonly detail: string };

export interface MajorityTest {
  /** Members on this member's side, itself included. */
  readonly reached: number;
  readonly total: number;
  /** Whether the lowest-named member of the total is on this side (for the static tie rule). */
  readonly lowestOnOurSide: boolean;
  readonly label: string;
}

export interface QuorumInputs {
  readonly phase: Phase;
  readonly tests: readonly MajorityTest[];
  readonly tieBreaker?: () => TieBreak;
}

export function majority(t: MajorityTest): 'majority' | 'tie' | 'minority' {
  if (2 * t.reached > t.total) return 'majority';
  return 2 * t.reached === t.total ? 'tie' : 'minority';
}

export function announceVerdict(i: QuorumInputs): AnnounceVerdict {
  if (i.phase === 'joining') return fenced('joining', 'not yet acknowledged by a majority after joining');
  if (i.phase === 'declared-dead')
    return fenced('declared-dead', 'declared dead by the other members; rejoining at a higher incarnation');
  if (i.phase === 'left') return fenced('left', 'left the cluster');
  return decide(i.tests, i.tieBreaker);
}

/** The majority/tie decision alone (also used to finish a join). */
export function decide(tests: readonly MajorityTest[], tieBreaker?: () => TieBreak): AnnounceVerdict {
  let tie: MajorityTest | undefined;
  for (const t of tests) {
    const m = majority(t);
    if (m === 'minority')
      return fenced('fenced-minority', `${t.label}: reaches ${t.reached} of ${t.total}, no majority`);
    if (m === 'tie') tie ??= t;
  }
  if (!tie) return { ok: true, basis: 'majority' };
  const where = `${tie.label}: reaches ${tie.reached} of ${tie.total}, a tie`;
  if (tieBreaker) {
    const answer = tieBreaker();
    return answer === 'granted'
      ? { ok: true, basis: 'tie-breaker' }
      : fenced('fenced-tie', `${where}; tie-breaker answered ${answer}`);
  }
  return tests.every((t) => majority(t) !== 'tie' || t.lowestOnOurSide)
    ? { ok: true, basis: 'lowest-name' }
    : fenced('fenced-tie', `${where}; the lowest-named member is on the other side`);
}

function fenced(reason: FenceReason, detail: string): AnnounceVerdict {
  return { ok: false, reason, detail };
}
