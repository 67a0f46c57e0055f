import { keysProblem, type MembershipKeys } from './keys.js';
import { memberNameProblem } from './names.js';
import type { TieBreak } from './quorum.js';

/** Failure-detector timings. Defaults are for a LAN (sub-millisecond RTT). */
export interface Timing {
  /** k: how many ring successors each member probes, and so how many watchers each member has. */
  readonly watchers: number;
  /** How often a watcher pings each of its targets (k watchers, so a member is pinged every interval/k). */
  readonly probeIntervalMs: number;
  /** Wait for the direct ack before asking helpers. */
  readonly probeTimeoutMs: number;
  /** How many other members are asked to ping a silent target (ping-req). */
  readonly indirectProbes: number;
  /** Wait for any helper's indirect-ack before suspecting. */
  readonly indirectTimeoutMs: number;
  /** Suspicion before declaring dead once `confirmations` watchers independently suspect. */
  readonly suspicionMinMs: number;
  /** Suspicion before declaring dead on this watcher's evidence alone (its own probes keep failing). */
  readonly suspicionMaxMs: number;
  /** Independent suspicions (watchers whose own direct and indirect probes failed) for the short wait. */
  readonly confirmations: number;
  /** A ring neighbour counts as reached for quorum if heard from this recently. */
  readonly quorumWindowMs: number;
  /** A tick later than planned by more than this means this process stalled: its probe timeouts are void. */
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
  watchers: 3,
  probeIntervalMs: 250,
  probeTimeoutMs: 100,
  indirectProbes: 3,
  indirectTimeoutMs: 100,
  suspicionMinMs: 300,
  suspicionMaxMs: 1500,
  confirmations: 2,
  quorumWindowMs: 400,
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
 * off stops counting its neighbours after `quorumWindowMs`, and the majority side declares it dead
 * no sooner than `probeTimeoutMs + indirectTimeoutMs + suspicionMinMs` after its last ack.
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
  const earliestDeath = t.probeTimeoutMs + t.indirectTimeoutMs + t.suspicionMinMs;
  if (t.quorumWindowMs + t.stallMs > earliestDeath + t.probeIntervalMs / 2)
    return `membership timing: quorumWindowMs (${t.quorumWindowMs}) must be well below probeTimeoutMs + indirectTimeoutMs + suspicionMinMs (${earliestDeath}), or a cut-off member would still announce when the others take over`;
  return undefined;
}
