/**
 * Speakers that start together each see a partial membership for a moment, and each would
 * briefly win and announce — a burst of conflicting gratuitous ARP. A starting speaker therefore
 * holds its announcements until it sees its own lease (its watch has caught up) and then either
 * every Node's speaker is alive or `settleMs` has passed. A speaker restarting into a healthy
 * cluster sees everyone at once and does not wait.
 */
export function startupHold(s: {
  now: number;
  /** When our own lease was first seen in the membership watch (undefined: not yet). */
  selfSeenAt: number | undefined;
  settleMs: number;
  alive: ReadonlySet<string>;
  nodes: readonly string[];
}): { hold: boolean; untilMs?: number } {
  if (s.selfSeenAt === undefined) return { hold: true };
  if (s.nodes.every((n) => s.alive.has(n))) return { hold: false };
  const until = s.selfSeenAt + s.settleMs;
  return s.now < until ? { hold: true, untilMs: until } : { hold: false };
}
