import { createHash } from 'node:crypto';

/**
 * The layer 2 election. Every speaker runs it alone over the same inputs and so reaches the same
 * answer without talking to the others: the candidate whose SHA-256 of `NODE#IP` is lowest
 * (bytewise) announces. Keying on the IP (not the service) makes services that share an IP land on
 * the same node, which MetalLB users rely on.
 */
export function electionOrder(
  candidates: Iterable<string>,
  ip: string,
  known?: Map<string, Buffer>,
): string[] {
  return [...candidates]
    .map((node) => ({ node, hash: nodeHash(node, ip, known) }))
    .sort((a, b) => Buffer.compare(a.hash, b.hash) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((c) => c.node);
}

/**
 * The node that announces `ip`, or undefined when there is no candidate. `known` keeps each
 * node's hash for this `ip` across calls (the caller keeps one map per address).
 */
export function electNode(
  candidates: Iterable<string>,
  ip: string,
  known?: Map<string, Buffer>,
): string | undefined {
  return electionOrder(candidates, ip, known)[0];
}

function nodeHash(node: string, ip: string, known: Map<string, Buffer> | undefined): Buffer {
  const held = known?.get(node);
  if (held !== undefined) return held;
  const hash = createHash('sha256').update(`${node}#${ip}`, 'utf8').digest();
  known?.set(node, hash);
  return hash;
}
