import {
  ANNOTATIONS,
  isOurLoadBalancer,
  l2AnnouncementFor,
  poolOfAddress,
  type Config,
} from '@metallb-ts/api';
import { objectKey, type EndpointSlice, type Node as KubeNode, type Service } from '@metallb-ts/k8s-runtime';
import type { SpeakerView, ViewService } from './announcements.js';
import type { NodeFacts } from './candidates.js';
import { endpointFacts } from './endpoints.js';

/** Everything the election of one recompute depends on, as values. */
export interface ViewInputs {
  readonly me: string;
  readonly services: readonly Service[];
  readonly slices: readonly EndpointSlice[];
  readonly nodes: readonly KubeNode[];
  readonly config: Config;
  /** Who may win: the alive speakers, this one included only when its verdict is alive. */
  readonly alive: ReadonlySet<string>;
  readonly loadBalancerClass?: string;
  readonly ignoreExcludeLabel?: boolean;
}

export function nodeFacts(n: KubeNode): NodeFacts {
  return {
    name: n.metadata?.name ?? '',
    labels: n.metadata?.labels ?? {},
    networkUnavailable: (n.status?.conditions ?? []).some(
      (c) => c.type === 'NetworkUnavailable' && c.status === 'True',
    ),
  };
}

/** The election's view: pure, so every rule of it is tested without a cluster. */
export function buildView(i: ViewInputs): SpeakerView {
  const bySvc = new Map<string, EndpointSlice[]>();
  for (const s of i.slices) {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${s.metadata?.namespace}/${svc}`;
    const list = bySvc.get(key);
    if (list) list.push(s);
    else bySvc.set(key, [s]);
  }
  const services: ViewService[] = [];
  for (const svc of i.services) {
    if (!isOurLoadBalancer(svc, i.loadBalancerClass).ours) continue;
    const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((x) => (x.ip ? [x.ip] : []));
    if (ips.length === 0) continue;
    const key = objectKey(svc);
    const facts = endpointFacts((bySvc.get(key) ?? []).flatMap((s) => s.endpoints ?? []));
    const entry: ViewService = {
      key,
      ips,
      labels: svc.metadata?.labels ?? {},
      externalTrafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
      ...facts,
    };
    const pool =
      svc.metadata?.annotations?.[ANNOTATIONS.ipAllocatedFromPool] ?? poolOfAddress(i.config, ips[0] ?? '');
    if (pool) entry.pool = pool;
    services.push(entry);
  }
  const config = i.config;
  return {
    me: i.me,
    services,
    nodes: i.nodes.map(nodeFacts),
    alive: new Set(i.alive),
    // An address in no pool we know is not ours to announce.
    policy: (pool, node, service) =>
      pool ? l2AnnouncementFor(config, pool, node, service) : { announce: false, interfaces: [] },
    ignoreExcludeLabel: i.ignoreExcludeLabel,
  };
}
