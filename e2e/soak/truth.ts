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

/** The API half of the truth: Services, and failure events only when some Service needs one. */
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
  const failures = new Map<string, string[]>();
  if (services.some((s) => isEligible(s) && s.ingress.length === 0)) {
    for (const reason of FAILURE_REASONS) {
      const events = await api.getJson<{ items: EventJson[] }>(
        `/api/v1/namespaces/${SOAK_NAMESPACE}/events?fieldSelector=reason%3D${reason}`,
      );
      for (const e of events.items) {
        const uid = e.involvedObject.uid;
        if (uid) failures.set(uid, [...(failures.get(uid) ?? []), `${e.reason}: ${e.message}`]);
      }
    }
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
