import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { GROUP, SERVICE_L2_STATUS_LABELS, type ServiceL2Status } from '@metallb-ts/api';
import { ownedOnlyBy, type OwnerReference } from '@metallb-ts/k8s-runtime';

/** A service this node announces, and on which interfaces. */
export interface AnnouncedService {
  service: string;
  interfaces: string[];
}

/** Who writes ServiceL2Status objects: the speaker of `node`, and the Pod it runs in. */
export interface L2StatusWriter {
  /** Where the objects live (the install namespace). */
  readonly namespace: string;
  readonly node: string;
  /**
   * The speaker's Pod: it owns every object this speaker writes, so the garbage collector deletes
   * them with the Pod (as MetalLB does). Unset when the speaker runs outside a Pod.
   */
  readonly owner?: OwnerReference;
}

export interface L2StatusPlan {
  create: ServiceL2Status[];
  update: ServiceL2Status[];
  /**
   * Existing objects of this node to hand over to this speaker's Pod (their `ownerReferences` as
   * desired): a restarted speaker reuses its objects by name, and they still name the old Pod.
   */
  reown: ServiceL2Status[];
  delete: string[];
}

/**
 * One ServiceL2Status per (service, node), with a name derived from both so a restarted speaker
 * finds and reuses its objects instead of leaving duplicates behind.
 */
export function l2StatusName(node: string, service: string): string {
  return `l2-${createHash('sha256').update(`${node}/${service}`).digest('hex').slice(0, 20)}`;
}

export function desiredL2Status(writer: L2StatusWriter, a: AnnouncedService): ServiceL2Status {
  const { namespace, node, owner } = writer;
  const [serviceNamespace = '', serviceName = ''] = a.service.split('/');
  return {
    apiVersion: `${GROUP}/v1beta1` as 'metallb.io/v1beta1',
    kind: 'ServiceL2Status',
    metadata: {
      name: l2StatusName(node, a.service),
      namespace,
      labels: {
        [SERVICE_L2_STATUS_LABELS.node]: node,
        [SERVICE_L2_STATUS_LABELS.serviceName]: serviceName,
        [SERVICE_L2_STATUS_LABELS.serviceNamespace]: serviceNamespace,
      },
      ...(owner ? { ownerReferences: [owner] } : {}),
    },
    status: {
      node,
      serviceName,
      serviceNamespace,
      interfaces: [...a.interfaces].sort().map((name) => ({ name })),
    },
  };
}

/**
 * What this node currently believes about the others, for removing objects nobody else will:
 * a dead node cannot remove its own, and when no node takes over nobody owns the service's.
 * Leave it out while this node is fenced or holding, when its view of the others is unreliable.
 */
export interface L2StatusCleanup {
  alive: ReadonlySet<string>;
  /** Whether some node announces `service` according to the current decisions. */
  hasWinner: (service: string) => boolean;
}

const nodeOf = (o: ServiceL2Status) => o.metadata.labels?.[SERVICE_L2_STATUS_LABELS.node] ?? '';
const serviceOf = (o: ServiceL2Status) =>
  `${o.metadata.labels?.[SERVICE_L2_STATUS_LABELS.serviceNamespace] ?? ''}/${o.metadata.labels?.[SERVICE_L2_STATUS_LABELS.serviceName] ?? ''}`;

/**
 * What to write so that the ServiceL2Status objects say exactly which services this node
 * announces. The announcing node owns a service's status: it also removes other nodes' objects
 * for that service, because a speaker that was killed could not remove its own. Objects of
 * services that no longer exist are removed by whoever sees them (deletes are idempotent), and
 * with `cleanup` so are those of dead nodes and of services no node announces.
 */
export function planL2Statuses(
  writer: L2StatusWriter,
  want: AnnouncedService[],
  have: ServiceL2Status[],
  serviceExists: (service: string) => boolean = () => true,
  cleanup?: L2StatusCleanup,
): L2StatusPlan {
  const { node, owner } = writer;
  const mine = have.filter((h) => nodeOf(h) === node);
  const byName = new Map(mine.map((h) => [h.metadata.name, h]));
  const plan: L2StatusPlan = { create: [], update: [], reown: [], delete: [] };
  const wanted = new Set<string>();
  for (const a of want) {
    const d = desiredL2Status(writer, a);
    wanted.add(d.metadata.name);
    const h = byName.get(d.metadata.name);
    if (!h) {
      plan.create.push(d);
      continue;
    }
    // Structural: the API server hands custom resources back with their keys in its own order.
    if (!isDeepStrictEqual(h.status ?? {}, d.status)) plan.update.push(d);
    if (owner && !ownedOnlyBy(h.metadata.ownerReferences, owner)) plan.reown.push(d);
  }
  for (const h of mine) if (!wanted.has(h.metadata.name)) plan.delete.push(h.metadata.name);
  const ours = new Set(want.map((a) => a.service));
  for (const h of have) {
    if (byName.has(h.metadata.name)) continue;
    const service = serviceOf(h);
    const abandoned = cleanup !== undefined && (!cleanup.alive.has(nodeOf(h)) || !cleanup.hasWinner(service));
    if (ours.has(service) || !serviceExists(service) || abandoned) plan.delete.push(h.metadata.name);
  }
  return plan;
}

/**
 * How long this node's own ServiceL2Status outlives an announcement it stopped, before it is
 * deleted. A fence shorter than the membership's death threshold (530 ms of silence) never hands
 * the service to anyone: peers still see this node alive and elect it, so deleting and re-creating
 * the object for it is churn (three writes per service per blip). A longer withdrawal is a real
 * handover, and the successor writes the truth at once anyway: it creates its own object and
 * deletes this node's (it owns the service's status). One second covers the death threshold with
 * room for timers running late on a loaded node, and still records a withdrawal nobody takes over
 * (no ready endpoint, every node fenced) well before MetalLB would even fail over (~5 s).
 */
export const L2_STATUS_WITHDRAWAL_GRACE_MS = 1000;

/** Which of this node's objects a withdrawal grace keeps for now, and what to remember for next time. */
export interface WithdrawalGrace {
  /** Names of this node's objects to leave alone although their service is no longer announced. */
  readonly keep: ReadonlySet<string>;
  /** Service -> when this node was first seen no longer announcing it (ms), for the next pass. */
  readonly withdrawnSince: ReadonlyMap<string, number>;
  /** When the earliest kept object's grace ends: look again then. */
  readonly recheckAt?: number;
}

/**
 * The withdrawal grace as a pure step: this node's objects whose service it no longer announces
 * are kept until they have been withdrawn for `graceMs` (counted from `withdrawnSince`, the
 * previous step's answer, or from `now` when the withdrawal is new). An announcement that comes
 * back within the grace leaves its object untouched. A deleted Service is no withdrawal: its
 * object goes at once.
 */
export function withdrawalGrace(
  node: string,
  want: readonly AnnouncedService[],
  have: readonly ServiceL2Status[],
  serviceExists: (service: string) => boolean,
  withdrawnSince: ReadonlyMap<string, number>,
  now: number,
  graceMs: number,
): WithdrawalGrace {
  const wanted = new Set(want.map((a) => a.service));
  const keep = new Set<string>();
  const since = new Map<string, number>();
  let recheckAt: number | undefined;
  for (const h of have) {
    const service = serviceOf(h);
    if (nodeOf(h) !== node || wanted.has(service) || !serviceExists(service)) continue;
    const from = withdrawnSince.get(service) ?? now;
    const until = from + graceMs;
    if (now >= until) continue;
    keep.add(h.metadata.name);
    since.set(service, from);
    recheckAt = Math.min(recheckAt ?? until, until);
  }
  return { keep, withdrawnSince: since, ...(recheckAt !== undefined ? { recheckAt } : {}) };
}
