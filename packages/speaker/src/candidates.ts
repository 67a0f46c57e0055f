/** What the election needs to know about a node, read from its Node object. */
export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  networkUnavailable: boolean;
}

/** A Service as the election sees it: its addresses, policy and where its endpoints are ready. */
export interface ServiceFacts {
  key: string;
  ips: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** Nodes that host at least one ready (or, when none is ready, serving) endpoint. */
  endpointNodes: Set<string>;
  /** True when the service has at least one ready/serving endpoint anywhere. */
  hasEndpoints: boolean;
}

export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export interface CandidateInputs {
  nodes: NodeFacts[];
  /** Speakers whose membership lease is fresh (ourselves only while our own renewals succeed). */
  alive: Set<string>;
  /** Whether a node may announce this service's pool, from the L2Advertisements. */
  nodeAllowed: (node: NodeFacts) => boolean;
  ignoreExcludeLabel?: boolean;
}

/**
 * The nodes allowed to announce a service. No ready endpoint means nobody announces: attracting
 * traffic to a node that can only drop it is worse than an ARP miss, which clients retry.
 */
export function candidatesFor(service: ServiceFacts, inputs: CandidateInputs): string[] {
  if (!service.hasEndpoints) return [];
  return inputs.nodes
    .filter((n) => inputs.alive.has(n.name))
    .filter((n) => !n.networkUnavailable)
    .filter((n) => inputs.ignoreExcludeLabel || !(EXCLUDE_LB_LABEL in n.labels))
    .filter((n) => inputs.nodeAllowed(n))
    .filter((n) => service.externalTrafficPolicy !== 'Local' || service.endpointNodes.has(n.name))
    .map((n) => n.name);
}
