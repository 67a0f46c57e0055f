import { GROUP } from '@metallb-ts/api';
import type { ServiceL2Status } from '@metallb-ts/api';
import { isAlreadyExists, isNotFound, type KubeWriter, type ResourceCache } from '@metallb-ts/k8s-runtime';
import {
  planL2Statuses,
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

/** What the announcing loop hands the status writer: the latest desired state, as one value. */
export interface L2StatusWant {
  readonly announced: readonly AnnouncedService[];
  /** Left out while fenced or holding, when this node's view of the others is unreliable. */
  readonly cleanup?: L2StatusCleanup;
}

/**
 * This node's ServiceL2Status objects, written off the announcing path: the loop hands over the
 * latest `want` (a value, replaced whole), and `sync` makes the API match it, retried by the
 * caller's queue. A slow API server therefore never delays (un)announcing.
 */
export class L2StatusSync {
  private want: L2StatusWant = { announced: [] };

  constructor(
    private readonly kube: L2StatusApi,
    private readonly writer: L2StatusWriter,
    private readonly statuses: Pick<ResourceCache<ServiceL2Status>, 'list'>,
    private readonly serviceExists: (service: string) => boolean,
  ) {}

  set(want: L2StatusWant): void {
    this.want = want;
  }

  async sync(): Promise<void> {
    const { announced, cleanup } = this.want;
    const plan = planL2Statuses(
      this.writer,
      [...announced],
      this.statuses.list(),
      this.serviceExists,
      cleanup,
    );
    await writeL2StatusPlan(this.kube, this.writer.namespace, plan);
  }

  /** On a planned leave: the successor writes its own; ours would claim an announcement that ended. */
  async clear(): Promise<void> {
    this.want = { announced: [] };
    await this.sync();
  }
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
