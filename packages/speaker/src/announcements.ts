import { candidatesFor, type NodeFacts, type ServiceFacts } from './candidates.js';
import { electionOrder } from './election.js';

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
 *
 * Each service's election is memoized by the identity of its entry (buildView hands out the same
 * entry until its Service, slices or the config change) and by the election context: the nodes
 * (by identity), the alive set (by content), the policy (by identity), the exclude-label switch
 * and `me`. So the view's entries and nodes must not be changed in place once decided on.
 */
export function decideAnnouncements(view: SpeakerView): {
  decisions: ServiceDecision[];
  announce: Map<string, Announcement>;
} {
  const decisions: ServiceDecision[] = [];
  const announce = new Map<string, Announcement>();
  const context = electionContext(view);
  const keys = electionKeys(view.services);
  for (const svc of view.services) {
    const first = keys.get(svc.key);
    if (first === undefined) continue;
    const elected = electionOf(svc, first, context);
    decisions.push(elected.decision);
    if (elected.interfaces === undefined) continue;
    for (const ip of svc.ips) {
      const existing = announce.get(ip);
      if (existing) {
        existing.services.push(svc.key);
        existing.interfaces = mergeInterfaces(existing.interfaces, elected.interfaces);
      } else {
        announce.set(ip, { services: [svc.key], interfaces: [...elected.interfaces] });
      }
    }
  }
  return { decisions, announce };
}

/**
 * Everything a service's election depends on besides the service, its key and the alive set:
 * which nodes may announce it, and in which order, change only with these.
 */
interface Placement {
  readonly me: string;
  readonly nodes: readonly NodeFacts[];
  readonly policy: AnnouncePolicy;
  readonly ignoreExcludeLabel: boolean | undefined;
}

interface ElectionContext {
  readonly placement: Placement;
  readonly alive: ReadonlySet<string>;
  /** The alive set's names, sorted and joined: equal sets give equal strings. */
  readonly aliveKey: string;
}

/** The nodes that may announce a service whoever is alive, by the address it is elected by. */
interface Eligible {
  readonly placement: Placement;
  readonly first: string;
  /** In the nodes' order, as candidatesFor gives them. */
  readonly nodes: string[];
  /** The same nodes in election order. */
  readonly order: string[];
  /** The interfaces to answer on should this node win. */
  readonly myInterfaces: string[] | undefined;
}

/** One service's election in one context, by the address it is elected by. */
interface Election {
  readonly placement: Placement;
  readonly aliveKey: string;
  readonly first: string;
  readonly decision: ServiceDecision;
  /** The interfaces to answer on when this node won, else undefined. */
  readonly interfaces: string[] | undefined;
}

/** The last placement per policy: the same object while nothing it holds changed. */
const placements = new WeakMap<AnnouncePolicy, Placement>();
const eligibles = new WeakMap<ViewService, Eligible>();
const elections = new WeakMap<ViewService, Election>();

function electionContext(view: SpeakerView): ElectionContext {
  const aliveKey = [...view.alive].sort().join('\n');
  const held = placements.get(view.policy);
  if (
    held !== undefined &&
    held.me === view.me &&
    held.ignoreExcludeLabel === view.ignoreExcludeLabel &&
    held.nodes.length === view.nodes.length &&
    held.nodes.every((n, i) => n === view.nodes[i])
  )
    return { placement: held, alive: new Set(view.alive), aliveKey };
  const placement: Placement = {
    me: view.me,
    nodes: [...view.nodes],
    policy: view.policy,
    ignoreExcludeLabel: view.ignoreExcludeLabel,
  };
  placements.set(view.policy, placement);
  return { placement, alive: new Set(view.alive), aliveKey };
}

function electionOf(svc: ViewService, first: string, context: ElectionContext): Election {
  const { placement, aliveKey } = context;
  const held = elections.get(svc);
  if (
    held !== undefined &&
    held.placement === placement &&
    held.aliveKey === aliveKey &&
    held.first === first
  )
    return held;
  const eligible = eligibleFor(svc, first, placement);
  // candidatesFor's filters commute: the alive ones among the eligible, in the nodes' order; and
  // the election order restricted to them is the order they would be sorted in alone.
  const candidates = eligible.nodes.filter((n) => context.alive.has(n));
  const winner = eligible.order.find((n) => context.alive.has(n));
  const election: Election = {
    placement,
    aliveKey,
    first,
    decision: { service: svc.key, ips: svc.ips, winner, candidates },
    interfaces: winner === placement.me ? eligible.myInterfaces : undefined,
  };
  elections.set(svc, election);
  return election;
}

function eligibleFor(svc: ViewService, first: string, placement: Placement): Eligible {
  const held = eligibles.get(svc);
  if (held !== undefined && held.placement === placement && held.first === first) return held;
  const service = { labels: svc.labels ?? {} };
  const nodes = candidatesFor(svc, {
    nodes: placement.nodes as NodeFacts[],
    alive: new Set(placement.nodes.map((n) => n.name)),
    nodeAllowed: (n) => placement.policy(svc.pool, n, service).announce,
    ignoreExcludeLabel: placement.ignoreExcludeLabel,
  });
  const meNode = placement.nodes.find((n) => n.name === placement.me);
  const eligible: Eligible = {
    placement,
    first,
    nodes,
    order: electionOrder(nodes, first),
    myInterfaces:
      meNode && nodes.includes(placement.me)
        ? placement.policy(svc.pool, meNode, service).interfaces
        : undefined,
  };
  eligibles.set(svc, eligible);
  return eligible;
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
  // Most services share no address: only those that do need the grouping.
  const holderOf = new Map<string, string>();
  const linked = new Set<string>();
  for (const svc of services)
    for (const ip of svc.ips) {
      const other = holderOf.get(ip);
      if (other === undefined) holderOf.set(ip, svc.key);
      else if (other !== svc.key) linked.add(svc.key).add(other);
    }
  const grouped = linked.size > 0 ? groupKeys(services.filter((svc) => linked.has(svc.key))) : undefined;
  const keys = new Map<string, string>();
  for (const svc of services) {
    const first = svc.ips[0];
    if (first !== undefined) keys.set(svc.key, grouped?.get(svc.key) ?? first);
  }
  return keys;
}

/** The lowest first address per group of services linked by shared addresses, per service. */
function groupKeys(services: readonly { key: string; ips: readonly string[] }[]): Map<string, string> {
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
