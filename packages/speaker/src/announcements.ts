import { candidatesFor, type NodeFacts, type ServiceFacts } from './candidates.js';
import { electNode } from './election.js';

export interface AnnouncePolicy {
  /**
   * Whether `node` may announce `service`'s addresses from `pool`, and on which interfaces
   * ([] = all). The service's labels are there for L2Advertisement service selectors.
   */
  (
    pool: string | undefined,
    node: NodeFacts,
    service: { labels: Record<string, string> },
  ): { announce: boolean; interfaces: string[] };
}

/** A service as the speaker decides on it: election facts, the pool its address came from, its labels. */
export type ViewService = ServiceFacts & { pool?: string; labels?: Record<string, string> };

export interface SpeakerView {
  me: string;
  services: ViewService[];
  nodes: NodeFacts[];
  alive: Set<string>;
  policy: AnnouncePolicy;
  ignoreExcludeLabel?: boolean;
}

export interface ServiceDecision {
  service: string;
  ips: string[];
  /** The elected node, or undefined when nobody may announce. */
  winner: string | undefined;
  candidates: string[];
}

export interface Announcement {
  services: string[];
  /** Interface names to answer on; empty means every eligible interface. */
  interfaces: string[];
}

/**
 * Level-based: from everything the speaker sees, which addresses this node must answer for now.
 * Recomputed from scratch on every change, so a missed event can never leave a stale announcement.
 */
export function decideAnnouncements(view: SpeakerView): {
  decisions: ServiceDecision[];
  announce: Map<string, Announcement>;
} {
  const decisions: ServiceDecision[] = [];
  const announce = new Map<string, Announcement>();
  const meNode = view.nodes.find((n) => n.name === view.me);
  const keys = electionKeys(view.services);
  for (const svc of view.services) {
    const first = keys.get(svc.key);
    if (first === undefined) continue;
    const service = { labels: svc.labels ?? {} };
    const candidates = candidatesFor(svc, {
      nodes: view.nodes,
      alive: view.alive,
      nodeAllowed: (n) => view.policy(svc.pool, n, service).announce,
      ignoreExcludeLabel: view.ignoreExcludeLabel,
    });
    const winner = electNode(candidates, first);
    decisions.push({ service: svc.key, ips: svc.ips, winner, candidates });
    if (winner !== view.me || !meNode) continue;
    const { interfaces } = view.policy(svc.pool, meNode, service);
    for (const ip of svc.ips) {
      const existing = announce.get(ip);
      if (existing) {
        existing.services.push(svc.key);
        existing.interfaces = mergeInterfaces(existing.interfaces, interfaces);
      } else {
        announce.set(ip, { services: [svc.key], interfaces: [...interfaces] });
      }
    }
  }
  return { decisions, announce };
}

/**
 * The address each service is elected by. MetalLB elects by the service's first address, so
 * services sharing an address land on the same node only when it is the first address of each:
 * a dual-stack service [v4, v6] sharing v6 with a single-stack service [v6] would be elected by
 * v4 and by v6, and two nodes would answer for v6. So services linked by shared addresses (also
 * through others) form one group, elected by the lowest first address among its members: for
 * every group whose members share their first address (all MetalLB setups that work) that is
 * MetalLB's key, unchanged.
 */
export function electionKeys(
  services: readonly { key: string; ips: readonly string[] }[],
): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let at = k; at !== root;) {
      const next = parent.get(at)!;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const holderOf = new Map<string, string>();
  for (const svc of services) {
    if (svc.ips.length === 0) continue;
    parent.set(svc.key, svc.key);
    for (const ip of svc.ips) {
      const other = holderOf.get(ip);
      if (other === undefined) holderOf.set(ip, svc.key);
      else parent.set(find(svc.key), find(other));
    }
  }
  const lowest = new Map<string, string>();
  for (const svc of services) {
    const first = svc.ips[0];
    if (first === undefined) continue;
    const root = find(svc.key);
    const held = lowest.get(root);
    if (held === undefined || first < held) lowest.set(root, first);
  }
  return new Map(
    services.filter((svc) => svc.ips.length > 0).map((svc) => [svc.key, lowest.get(find(svc.key))!]),
  );
}

/** Two rules for one IP: "all interfaces" ([]) absorbs any list; otherwise the union. */
function mergeInterfaces(a: string[], b: string[]): string[] {
  if (a.length === 0 || b.length === 0) return [];
  return [...new Set([...a, ...b])].sort();
}

/** An address served now, and on which links. */
export type Served = Announcement & { links: string[] };

/** Each announcement on the links it names that exist, or on every one of `links` when it names none. */
export function servedOn(
  announce: ReadonlyMap<string, Announcement>,
  links: readonly string[],
): Map<string, Served> {
  const served = new Map<string, Served>();
  for (const [ip, a] of announce)
    served.set(ip, {
      ...a,
      links: a.interfaces.length === 0 ? [...links] : a.interfaces.filter((i) => links.includes(i)),
    });
  return served;
}
