import { GROUP } from '@metallb-ts/api';
import type { ServiceL2Status } from '@metallb-ts/api';
import { isAlreadyExists, isNotFound, type KubeWriter, type ResourceCache } from '@metallb-ts/k8s-runtime';
import type { VerdictState } from './membership-port.js';
import {
  L2_STATUS_WITHDRAWAL_GRACE_MS,
  planL2Statuses,
  withdrawalGrace,
  type AnnouncedService,
  type L2StatusCleanup,
  type L2StatusPlan,
  type L2StatusWriter,
} from './l2-status.js';

/** What writing ServiceL2Status objects needs from the API. */
export type L2StatusApi = Pick<KubeWriter, 'create' | 'patch' | 'delete'>;

/**
 * Carries out a plan from `planL2Statuses`: creates (then writes status, a subresource), updates
 * status, re-owns (a merge patch replaces `ownerReferences` whole, dropping the old Pod), deletes.
 * An object that already exists or is already gone is not an error.
 */
export async function writeL2StatusPlan(
  kube: L2StatusApi,
  namespace: string,
  plan: L2StatusPlan,
): Promise<void> {
  const ref = (name: string) => ({
    apiVersion: `${GROUP}/v1beta1`,
    kind: 'ServiceL2Status',
    namespace,
    name,
  });
  for (const o of plan.create) {
    const { status, ...rest } = o;
    await kube.create(rest).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
    await kube.patch(ref(o.metadata.name), { status }, { type: 'merge', subresource: 'status' });
  }
  for (const o of plan.update)
    await kube.patch(ref(o.metadata.name), { status: o.status }, { type: 'merge', subresource: 'status' });
  for (const o of plan.reown) {
    // Gone meanwhile (the garbage collector took it with the old Pod): the next pass creates it.
    await kube
      .patch(
        ref(o.metadata.name),
        { metadata: { ownerReferences: o.metadata.ownerReferences ?? [] } },
        {
          type: 'merge',
        },
      )
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
  }
  for (const name of plan.delete) {
    await kube.delete(ref(name)).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
}

/** The ServiceL2Status objects this node should have, as one value derived from one decision. */
export interface L2StatusWant {
  readonly announced: readonly AnnouncedService[];
  /** Left out while fenced or holding, when this node's view of the others is unreliable. */
  readonly cleanup?: L2StatusCleanup;
}

/** What one sync did: the services it claimed, and when it must look again. */
export interface L2StatusSyncResult {
  /**
   * Services whose object this speaker created or took over from an earlier Pod of this node:
   * it now records itself announcing them and did not before (a takeover or a restart).
   */
  readonly claimed: readonly string[];
  /** When a withdrawal grace ends (ms), if one is running. */
  readonly recheckAt?: number;
}

/**
 * This node's ServiceL2Status objects, written off the announcing path: each `sync` is handed the
 * desired state as a value and makes the API match it, retried by the caller's queue, so a slow API
 * server never delays (un)announcing. A withdrawal is written only once it has lasted `graceMs`
 * (see `withdrawalGrace`): a short fence costs no writes. The only state kept between passes is
 * that grace's own clock.
 */
export class L2StatusSync {
  private withdrawnSince: ReadonlyMap<string, number> = new Map();

  constructor(
    private readonly kube: L2StatusApi,
    private readonly writer: L2StatusWriter,
    private readonly statuses: Pick<ResourceCache<ServiceL2Status>, 'list'>,
    private readonly serviceExists: (service: string) => boolean,
    private readonly graceMs: number = L2_STATUS_WITHDRAWAL_GRACE_MS,
  ) {}

  async sync(want: L2StatusWant, now: number): Promise<L2StatusSyncResult> {
    const have = this.statuses.list();
    const grace = withdrawalGrace(
      this.writer.node,
      want.announced,
      have,
      this.serviceExists,
      this.withdrawnSince,
      now,
      this.graceMs,
    );
    this.withdrawnSince = grace.withdrawnSince;
    const plan = planL2Statuses(this.writer, [...want.announced], have, this.serviceExists, want.cleanup);
    await writeL2StatusPlan(this.kube, this.writer.namespace, {
      ...plan,
      delete: plan.delete.filter((name) => !grace.keep.has(name)),
    });
    return {
      claimed: [...plan.create, ...plan.reown].map(
        (o) => `${o.status?.serviceNamespace ?? ''}/${o.status?.serviceName ?? ''}`,
      ),
      ...(grace.recheckAt !== undefined ? { recheckAt: grace.recheckAt } : {}),
    };
  }

  /** On a planned leave, at once: the successor writes its own; ours would claim an announcement that ended. */
  async clear(): Promise<void> {
    this.withdrawnSince = new Map();
    const plan = planL2Statuses(this.writer, [], this.statuses.list(), this.serviceExists);
    await writeL2StatusPlan(this.kube, this.writer.namespace, plan);
  }
}

/**
 * What the status should say after one decision: the services served and on which links; and,
 * only while this node's verdict is alive, the view needed to clean up after others.
 */
export function l2StatusWant(
  served: Iterable<{ readonly services: readonly string[]; readonly links: readonly string[] }>,
  decision: {
    readonly verdict: VerdictState;
    readonly alive: ReadonlySet<string>;
    readonly winners: ReadonlyMap<string, string | undefined>;
  },
): L2StatusWant {
  const { verdict, alive, winners } = decision;
  return {
    announced: announcedServices(served),
    ...(verdict === 'alive'
      ? { cleanup: { alive, hasWinner: (svc: string) => winners.get(svc) !== undefined } }
      : {}),
  };
}

/** Per service, the union of the links its addresses are announced on. */
export function announcedServices(
  announced: Iterable<{ readonly services: readonly string[]; readonly links: readonly string[] }>,
): AnnouncedService[] {
  const perService = new Map<string, Set<string>>();
  for (const a of announced)
    for (const svc of a.services) perService.set(svc, new Set([...(perService.get(svc) ?? []), ...a.links]));
  return [...perService].map(([service, links]) => ({ service, interfaces: [...links] }));
}
