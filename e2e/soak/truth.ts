// Reads what the soak checks: Services, their EndpointSlices and failure events from the API
// server, who answers ARP (or NDP) for each address from the client namespace, and whether the
// components still run.
import type { Lab } from '../src/lab.js';
import type { SoakApi } from './api.js';
import { FAILURE_REASONS, isEligible, type Truth, type TruthService } from './invariants.js';
import { SOAK_NAMESPACE } from './model.js';

interface ServiceJson {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: {
    type?: string;
    loadBalancerClass?: string;
    ports?: { port: number; protocol?: string }[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export interface EndpointSliceJson {
  metadata: { labels?: Record<string, string> };
  endpoints?: { conditions?: { ready?: boolean; serving?: boolean } }[] | null;
}

interface EventJson {
  reason: string;
  message: string;
  involvedObject: { uid?: string };
}

/**
 * The names of the Services whose slices hold an endpoint worth announcing: a ready one, or a
 * serving one (an absent condition counts as true, as the EndpointSlice API defines). The speaker
 * prefers ready endpoints over serving ones when it picks nodes; for whether to announce at all,
 * either will do.
 */
export function servicesWithEndpoints(slices: readonly EndpointSliceJson[]): Set<string> {
  const names = new Set<string>();
  for (const slice of slices) {
    const name = slice.metadata.labels?.['kubernetes.io/service-name'];
    const usable = (slice.endpoints ?? []).some(
      (ep) => ep.conditions?.ready !== false || ep.conditions?.serving === true,
    );
    if (name !== undefined && usable) names.add(name);
  }
  return names;
}

export function toTruthService(s: ServiceJson, withEndpoints: ReadonlySet<string>): TruthService {
  return {
    name: s.metadata.name,
    uid: s.metadata.uid,
    type: s.spec.type ?? 'ClusterIP',
    ...(s.spec.loadBalancerClass ? { lbClass: s.spec.loadBalancerClass } : {}),
    annotations: s.metadata.annotations ?? {},
    ports: (s.spec.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
    etp: s.spec.externalTrafficPolicy ?? 'Cluster',
    selector: s.spec.selector ?? {},
    ingress: (s.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
    hasEndpoints: withEndpoints.has(s.metadata.name),
  };
}

/**
 * The API half of the truth: Services, and the failure events of each eligible Service without an
 * address. The events are read per Service (`involvedObject.uid`): the namespace's events only grow
 * during a soak (their TTL is two hours), and listing every failure event of the namespace on each
 * settle poll made a step cost more the longer the soak ran (1.7 steps/s at the start, 1 step/s
 * after 25 minutes; one such list returned 490 KB at 1,540 events).
 */
export async function readApiTruth(api: SoakApi): Promise<Pick<Truth, 'services' | 'failures'>> {
  const [list, slices] = await Promise.all([
    api.getJson<{ items: ServiceJson[] }>(`/api/v1/namespaces/${SOAK_NAMESPACE}/services`),
    api.getJson<{ items: EndpointSliceJson[] }>(
      `/apis/discovery.k8s.io/v1/namespaces/${SOAK_NAMESPACE}/endpointslices`,
    ),
  ]);
  const withEndpoints = servicesWithEndpoints(slices.items);
  const services = list.items
    .map((s) => toTruthService(s, withEndpoints))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const unaddressed = services.filter((s) => isEligible(s) && s.ingress.length === 0);
  const failures = new Map<string, string[]>();
  const perService = await Promise.all(
    unaddressed.map((s) =>
      api.getJson<{ items: EventJson[] }>(
        `/api/v1/namespaces/${SOAK_NAMESPACE}/events?fieldSelector=${encodeURIComponent(`involvedObject.uid=${s.uid}`)}`,
      ),
    ),
  );
  for (const e of perService.flatMap((events) => events.items)) {
    const uid = e.involvedObject.uid;
    if (uid && (FAILURE_REASONS as readonly string[]).includes(e.reason))
      failures.set(uid, [...(failures.get(uid) ?? []), `${e.reason}: ${e.message}`]);
  }
  return { services, failures };
}

/** How long a wire probe listens for answers. */
export const WIRE_LISTEN_MS = 150;

/**
 * Who answers for each address: one request each, all sent at once from the client, every answer
 * within 150 ms counted (a speaker answers in well under a millisecond; two owners both answer the
 * same request). A probe that misses a slow answer only makes the settle loop look again.
 */
export async function probeWire(lab: Lab, ips: readonly string[]): Promise<Map<string, string[]>> {
  return lab.clientOwners(ips, WIRE_LISTEN_MS);
}
