/** The parts of a discovery.k8s.io/v1 EndpointSlice the election reads. */
export interface SliceEndpoint {
  nodeName?: string;
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

export interface EndpointFacts {
  hasEndpoints: boolean;
  endpointNodes: Set<string>;
}

/**
 * Where a service has endpoints worth sending traffic to. Ready endpoints win; only when none is
 * ready anywhere do serving (terminating but still answering) endpoints count, so a rolling update
 * does not blackhole the VIP. An absent `ready` means ready, as the EndpointSlice API defines.
 */
export function endpointFacts(endpoints: Iterable<SliceEndpoint>): EndpointFacts {
  const ready = new Set<string>();
  const serving = new Set<string>();
  let anyReady = false;
  let anyServing = false;
  for (const ep of endpoints) {
    const isReady = ep.conditions?.ready !== false;
    const isServing = isReady || ep.conditions?.serving === true;
    if (isReady) {
      anyReady = true;
      if (ep.nodeName) ready.add(ep.nodeName);
    } else if (isServing) {
      anyServing = true;
      if (ep.nodeName) serving.add(ep.nodeName);
    }
  }
  if (anyReady) return { hasEndpoints: true, endpointNodes: ready };
  return { hasEndpoints: anyServing, endpointNodes: serving };
}
