import {
  ANNOTATIONS,
  isOurLoadBalancer,
  l2AnnouncementFor,
  poolOfAddress,
  type Config,
} from '@metallb-ts/api';
import { objectKey, type EndpointSlice, type Node as KubeNode, type Service } from '@metallb-ts/k8s-runtime';
import type { AnnouncePolicy, SpeakerView, ViewService } from './announcements.js';
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

/** Facts per Node object: the caches hand out the same object until it changes. */
const factsOf = new WeakMap<KubeNode, NodeFacts>();

export function nodeFacts(n: KubeNode): NodeFacts {
  const held = factsOf.get(n);
  if (held !== undefined) return held;
  const facts: NodeFacts = {
    name: n.metadata?.name ?? '',
    labels: n.metadata?.labels ?? {},
    networkUnavailable: (n.status?.conditions ?? []).some(
      (c) => c.type === 'NetworkUnavailable' && c.status === 'True',
    ),
  };
  factsOf.set(n, facts);
  return facts;
}

/** A Service's view entry (undefined: not ours to elect) and everything else it was built from. */
interface Entry {
  readonly key: string;
  readonly slices: readonly EndpointSlice[];
  readonly config: Config;
  readonly loadBalancerClass: string | undefined;
  readonly entry: ViewService | undefined;
}

/**
 * Per Service object, its last entry: the same entry object comes back while the Service, its
 * slices (by identity) and the config are the ones it was built from, so decideAnnouncements can
 * memoize its election by the entry.
 */
const entries = new WeakMap<Service, Entry>();
/** The policy per config, one function per config object, so elections memoized by it hold. */
const policies = new WeakMap<Config, AnnouncePolicy>();
const NO_SLICES: readonly EndpointSlice[] = [];

/** The election's view: pure, so every rule of it is tested without a cluster. */
export function buildView(i: ViewInputs): SpeakerView {
  const bySvc = new Map<string, EndpointSlice[]>();
  for (const s of i.slices) {
    const key = serviceOf(s);
    if (key === undefined) continue;
    const list = bySvc.get(key);
    if (list) list.push(s);
    else bySvc.set(key, [s]);
  }
  const services: ViewService[] = [];
  for (const svc of i.services) {
    const held = entries.get(svc);
    const key = held?.key ?? objectKey(svc);
    const slices = bySvc.get(key) ?? NO_SLICES;
    const reuse =
      held !== undefined &&
      held.config === i.config &&
      held.loadBalancerClass === i.loadBalancerClass &&
      sameItems(held.slices, slices);
    const entry = reuse ? held.entry : viewEntry(svc, key, slices, i);
    if (!reuse)
      entries.set(svc, { key, slices, config: i.config, loadBalancerClass: i.loadBalancerClass, entry });
    if (entry) services.push(entry);
  }
  return {
    me: i.me,
    services,
    nodes: i.nodes.map(nodeFacts),
    alive: new Set(i.alive),
    policy: policyFor(i.config),
    ignoreExcludeLabel: i.ignoreExcludeLabel,
  };
}

function viewEntry(
  svc: Service,
  key: string,
  slices: readonly EndpointSlice[],
  i: ViewInputs,
): ViewService | undefined {
  if (!isOurLoadBalancer(svc, i.loadBalancerClass).ours) return undefined;
  const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((x) => (x.ip ? [x.ip] : []));
  if (ips.length === 0) return undefined;
  const facts = endpointFacts(slices.flatMap((s) => s.endpoints ?? []));
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
  return entry;
}

function policyFor(config: Config): AnnouncePolicy {
  const held = policies.get(config);
  if (held !== undefined) return held;
  // An address in no pool we know is not ours to announce.
  const policy: AnnouncePolicy = (pool, node, service) =>
    pool ? l2AnnouncementFor(config, pool, node, service) : { announce: false, interfaces: [] };
  policies.set(config, policy);
  return policy;
}

/** Whether two lists hold the same objects in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** The key of the Service a slice belongs to ('' when it names none), per slice object. */
const ownerOf = new WeakMap<EndpointSlice, string>();

function serviceOf(slice: EndpointSlice): string | undefined {
  let key = ownerOf.get(slice);
  if (key === undefined) {
    const svc = slice.metadata?.labels?.['kubernetes.io/service-name'];
    key = svc ? `${slice.metadata?.namespace}/${svc}` : '';
    ownerOf.set(slice, key);
  }
  return key === '' ? undefined : key;
}
