import { createHash } from 'node:crypto';

/**
 * The layer 2 election. Every speaker runs it alone over the same inputs and so reaches the same
 * answer without talking to the others: the candidate whose SHA-256 of `NODE#IP` is lowest
 * (bytewise) announces. Keying on the IP (not the service) makes services that share an IP land on
 * the same node, which MetalLB users rely on.
 */
export function electionOrder(candidates: Iterable<string>, ip: string): string[] {
  return [...candidates]
    .map((node) => ({ node, hash: createHash('sha256').update(`${node}#${ip}`, 'utf8').digest() }))
    .sort((a, b) => Buffer.compare(a.hash, b.hash) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((c) => c.node);
}

/** The node that announces `ip`, or undefined when there is no candidate. */
export function electNode(candidates: Iterable<string>, ip: string): string | undefined {
  return electionOrder(candidates, ip)[0];
}
