import { keysProblem, type MembershipKeys } from './keys.js';
import { memberNameProblem } from './names.js';
import type { TieBreak } from './quorum.js';

/**
 * Failure-detector timings. Defaults are for a LAN (sub-millisecond RTT): with 4 neighbours each
 * member sends and receives about 16 / probeIntervalMs packets (42 per second), detects a death
 * in under 400 ms, and never declares a member whose event loop or network stopped for 300 ms.
 */
export interface Timing {
  /** k: how many ring neighbours each member watches (half successors, half predecessors); they watch it back. */
  readonly watchers: number;
  /**
   * How often a member pings each neighbour. Each side of a pair pings, half an interval apart
   * (a ping received moves our next one there), so either end hears the other every interval/2.
   */
  readonly probeIntervalMs: number;
  /** A neighbour silent this long is pinged again every retryIntervalMs (one lost packet costs little). */
  readonly retryAfterMs: number;
  readonly retryIntervalMs: number;
  /** A neighbour silent this long: ask `indirectProbes` of its other neighbours to ping it for us. */
  readonly indirectAfterMs: number;
  /** How many members are asked to ping a silent neighbour (ping-req), its own watchers first. */
  readonly indirectProbes: number;
  /** Between rounds of ping-req while the silence lasts; a helper relays an ack this long. */
  readonly indirectIntervalMs: number;
  /** Silence after which this member suspects a neighbour (told to it, so it can refute, and to its watchers). */
  readonly suspectAfterMs: number;
  /**
   * Silence after which it declares the neighbour dead, once `confirmations` watchers (itself
   * included) suspect it. Must exceed the longest stall to survive (300 ms) plus probeIntervalMs/2.
   */
  readonly deadAfterMs: number;
  /** Independent suspicions (watchers that heard nothing for suspectAfterMs) needed for deadAfterMs. */
  readonly confirmations: number;
  /** Silence after which it declares the neighbour dead on its own evidence alone. */
  readonly suspicionMaxMs: number;
  /** A ring neighbour counts as reached for quorum if heard from this recently. */
  readonly quorumWindowMs: number;
  /** A tick later than planned by more than this means this process stalled: the silences it measured are void. */
  readonly stallMs: number;
  /** Resend join to members that have not acknowledged it. */
  readonly joinRetryMs: number;
  /** Piggybacked updates per packet, at most. */
  readonly maxPiggyback: number;
  /** Each rumour is piggybacked this many times log2(members + 1). */
  readonly gossipRetransmitFactor: number;
  /** Sync packets stay under this many bytes (MTU-safe). */
  readonly maxSyncBytes: number;
}

export const DEFAULT_TIMING: Timing = {
  watchers: 4,
  probeIntervalMs: 380,
  retryAfterMs: 200,
  retryIntervalMs: 20,
  indirectAfterMs: 250,
  indirectProbes: 2,
  indirectIntervalMs: 100,
  suspectAfterMs: 490,
  deadAfterMs: 530,
  confirmations: 2,
  suspicionMaxMs: 1500,
  quorumWindowMs: 260,
  stallMs: 150,
  joinRetryMs: 500,
  maxPiggyback: 8,
  gossipRetransmitFactor: 3,
  maxSyncBytes: 1200,
};

export interface MembershipConfig {
  /** This member's name (the Node name). */
  readonly name: string;
  readonly keys: MembershipKeys;
  /** Members known at start (from the API server: speaker pods / Nodes); may include `name`. */
  readonly peers: readonly string[];
  /**
   * Starting incarnation. Use the wall clock in seconds, so a restarted member starts above any
   * incarnation its previous life used and its packets pass the peers' replay windows.
   */
  readonly incarnation: number;
  /** [0, 1), injected so runs replay. */
  readonly random: () => number;
  readonly timing?: Partial<Timing>;
  /**
   * 'joining' (default): announce only after a majority acknowledged our join. 'member': skip the
   * handshake, for a whole cluster started at once from one peer list (simulations); such a
   * member is still fenced until it has heard from its ring neighbours.
   */
  readonly startPhase?: 'joining' | 'member';
  /** Asked only while a tie lasts (see quorum.ts); unset: the lowest-named half wins. */
  readonly tieBreaker?: () => TieBreak;
}

/**
 * Why `config` cannot run, or undefined. The fence must come before any takeover: a member cut
 * off stops counting a neighbour `quorumWindowMs` after it last heard it, and the last exchanges
 * of its pairs lie within probeIntervalMs/2 of each other, so the first watcher reaches
 * `deadAfterMs` of silence no sooner than quorumWindowMs + probeIntervalMs/2 would allow; an
 * undetected stall (< stallMs) delays the fence by as much.
 */
export function configProblem(config: MembershipConfig): string | undefined {
  const name = memberNameProblem(config.name);
  if (name) return `membership name ${name}`;
  for (const p of config.peers) {
    const problem = memberNameProblem(p);
    if (problem) return `membership peer ${problem}`;
  }
  const keys = keysProblem(config.keys);
  if (keys) return keys;
  if (!Number.isInteger(config.incarnation) || config.incarnation < 0 || config.incarnation > 0xfffffff0)
    return `membership incarnation must be an integer in [0, 4294967280], got ${config.incarnation}`;
  const t = { ...DEFAULT_TIMING, ...config.timing };
  for (const [field, value] of Object.entries(t)) {
    if (!Number.isFinite(value) || value < 0) return `membership timing ${field} must be >= 0, got ${value}`;
  }
  if (t.watchers < 1) return `membership timing watchers must be >= 1, got ${t.watchers}`;
  if (t.probeIntervalMs <= 0 || t.retryIntervalMs <= 0)
    return `membership timing probeIntervalMs and retryIntervalMs must be > 0, got ${t.probeIntervalMs} and ${t.retryIntervalMs}`;
  if (t.suspectAfterMs > t.deadAfterMs || t.deadAfterMs > t.suspicionMaxMs)
    return `membership timing must keep suspectAfterMs (${t.suspectAfterMs}) <= deadAfterMs (${t.deadAfterMs}) <= suspicionMaxMs (${t.suspicionMaxMs})`;
  const fenceBy = t.quorumWindowMs + Math.max(t.probeIntervalMs / 2, t.stallMs);
  if (fenceBy >= t.deadAfterMs)
    return `membership timing: quorumWindowMs (${t.quorumWindowMs}) + max(probeIntervalMs / 2, stallMs) = ${fenceBy} must stay below deadAfterMs (${t.deadAfterMs}), or a cut-off member would still announce when the others take over`;
  return undefined;
}
