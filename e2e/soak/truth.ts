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
 * The failure events of the Services the soak has seen without an address. Listing Events is
 * costly however narrow the field selector: kube-apiserver reads every event of the namespace to
 * filter them (97 ms a list at about 5,000 events, which a soak piles up within the hour), and the
 * settle loop polls ten times a second. A Service found with a failure event keeps it (events live
 * for the lab's two-hour TTL), so it is not asked about again; a Service not found yet is asked on
 * every read. Reading all of them per poll made the soak slow down step by step, as events grew.
 */
export class FailureEvents {
  private readonly found = new Map<string, string[]>();

  constructor(private readonly api: SoakApi) {}

  /** The failure event messages of each of `services` (by uid) that has any. */
  async of(services: readonly TruthService[]): Promise<Map<string, string[]>> {
    const unknown = services.filter((s) => !this.found.has(s.uid));
    const lists = await Promise.all(
      unknown.map((s) =>
        this.api.getJson<{ items: EventJson[] }>(
          `/api/v1/namespaces/${SOAK_NAMESPACE}/events?fieldSelector=${encodeURIComponent(`involvedObject.uid=${s.uid}`)}`,
        ),
      ),
    );
    for (const e of lists.flatMap((l) => l.items)) {
      const uid = e.involvedObject.uid;
      if (uid && (FAILURE_REASONS as readonly string[]).includes(e.reason))
        this.found.set(uid, [...(this.found.get(uid) ?? []), `${e.reason}: ${e.message}`]);
    }
    const failures = new Map<string, string[]>();
    for (const s of services) {
      const messages = this.found.get(s.uid);
      if (messages) failures.set(s.uid, messages);
    }
    return failures;
  }
}

/**
 * The API half of the truth: Services, and the failure events of each eligible Service without an
 * address (`failureEvents` remembers the ones found, across reads).
 */
export async function readApiTruth(
  api: SoakApi,
  failureEvents: FailureEvents = new FailureEvents(api),
): Promise<Pick<Truth, 'services' | 'failures'>> {
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
  const failures = await failureEvents.of(services.filter((s) => isEligible(s) && s.ingress.length === 0));
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
