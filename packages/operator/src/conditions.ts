// The MetalLB resource's four conditions, computed from what the operator observed. Pure: the
// reconciler gathers the facts, this decides what they mean for a person reading `kubectl get`.
import type { Condition } from '@metallb-ts/api';
import { formatTime } from '@metallb-ts/k8s-runtime';

/** The parts of a Deployment's status the rollout check reads. */
export interface DeploymentObserved {
  metadata?: { namespace?: string; name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
}

/** The parts of a DaemonSet's status the rollout check reads. */
export interface DaemonSetObserved {
  metadata?: { namespace?: string; name?: string; generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
  };
}

/** An object the operator failed to apply, and why. */
export interface ApplyFailure {
  /** `Kind namespace/name` or `Kind name`. */
  readonly object: string;
  readonly error: string;
}

/** Everything the conditions depend on. */
export interface MetalLBObserved {
  /** Set when this resource is not the one the operator acts on; nothing else matters then. */
  readonly incorrectName?: { readonly actual: string; readonly expected: string };
  /** The controller Deployment (undefined: not there). */
  readonly deployment?: DeploymentObserved;
  /** Where the controller Deployment should be, for messages when it is missing. */
  readonly deploymentName: string;
  readonly daemonSet?: DaemonSetObserved;
  readonly daemonSetName: string;
  readonly applyFailures?: readonly ApplyFailure[];
  /** `namespace/name` of each keepalived ipfailover Deployment in the cluster. */
  readonly ipFailover?: readonly string[];
}

export const CONDITION_TYPES = ['Available', 'Progressing', 'Degraded', 'Upgradeable'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const REASONS = {
  rolledOut: 'AllComponentsReady',
  rollingOut: 'ComponentsRollingOut',
  notReady: 'ComponentsNotReady',
  healthy: 'AsExpected',
  applyFailed: 'ApplyFailed',
  incorrectName: 'IncorrectMetalLBResourceName',
  ipFailover: 'IPFailoverPresent',
  notReconciled: 'NotReconciled',
  /** An event, not a condition: a deleted resource's cluster-scoped objects could not be deleted. */
  cleanupFailed: 'CleanupFailed',
} as const;

/** Why the controller Deployment is not fully rolled out, or undefined when it is. */
export function deploymentLag(name: string, d: DeploymentObserved | undefined): string | undefined {
  if (!d) return `controller Deployment ${name} does not exist yet`;
  const generation = d.metadata?.generation ?? 0;
  const observed = d.status?.observedGeneration ?? 0;
  if (observed < generation)
    return `controller Deployment ${name}: generation ${generation} not yet seen by the deployment controller (observed ${observed})`;
  const want = d.spec?.replicas ?? 1;
  const updated = d.status?.updatedReplicas ?? 0;
  const ready = d.status?.readyReplicas ?? 0;
  if (updated === want && ready === want) return undefined;
  return `controller Deployment ${name}: ${updated} of ${want} replicas updated, ${ready} of ${want} ready`;
}

/** Why the speaker DaemonSet is not fully rolled out, or undefined when it is. */
export function daemonSetLag(name: string, ds: DaemonSetObserved | undefined): string | undefined {
  if (!ds) return `speaker DaemonSet ${name} does not exist yet`;
  const generation = ds.metadata?.generation ?? 0;
  const observed = ds.status?.observedGeneration ?? 0;
  if (observed < generation)
    return `speaker DaemonSet ${name}: generation ${generation} not yet seen by the daemonset controller (observed ${observed})`;
  const desired = ds.status?.desiredNumberScheduled ?? 0;
  const current = ds.status?.currentNumberScheduled ?? 0;
  const ready = ds.status?.numberReady ?? 0;
  const updated = ds.status?.updatedNumberScheduled ?? 0;
  if (current === desired && ready === desired && updated === desired) return undefined;
  return `speaker DaemonSet ${name}: ${updated} of ${desired} pods updated, ${ready} of ${desired} ready, ${current} of ${desired} scheduled`;
}

type Draft = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

function draftConditions(o: MetalLBObserved): Draft[] {
  if (o.incorrectName) {
    const why = `only the MetalLB resource ${o.incorrectName.expected} is acted on; ${o.incorrectName.actual} is ignored and nothing is deployed for it: delete it, or rename it to ${o.incorrectName.expected}`;
    return [
      { type: 'Available', status: 'False', reason: REASONS.incorrectName, message: why },
      { type: 'Progressing', status: 'False', reason: REASONS.incorrectName, message: why },
      { type: 'Degraded', status: 'True', reason: REASONS.incorrectName, message: why },
      { type: 'Upgradeable', status: 'False', reason: REASONS.incorrectName, message: why },
    ];
  }
  const lags = [deploymentLag(o.deploymentName, o.deployment), daemonSetLag(o.daemonSetName, o.daemonSet)]
    .filter((l): l is string => l !== undefined)
    .join('; ');
  const failures = o.applyFailures ?? [];
  const problems: { reason: string; message: string }[] = [];
  if (failures.length > 0) {
    const list = failures.map((f) => `${f.object}: ${f.error}`).join('; ');
    problems.push({
      reason: REASONS.applyFailed,
      message: `applying ${failures.length === 1 ? 'an object' : `${failures.length} objects`} failed (retrying): ${list}`,
    });
  }
  if (o.ipFailover && o.ipFailover.length > 0) {
    problems.push({
      reason: REASONS.ipFailover,
      message: `IP failover (keepalived) runs in the cluster (Deployment ${o.ipFailover.join(', ')}); MetalLB is deployed anyway, but both answer for the same addresses: remove IP failover`,
    });
  }
  const rolledOut = lags === '';
  const degraded: Draft =
    problems.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: problems[0]!.reason,
          message: problems.map((p) => p.message).join('; '),
        }
      : { type: 'Degraded', status: 'False', reason: REASONS.healthy, message: 'no problems found' };
  const ready = 'the controller Deployment and the speaker DaemonSet are fully rolled out';
  const available: Draft = rolledOut
    ? { type: 'Available', status: 'True', reason: REASONS.rolledOut, message: ready }
    : { type: 'Available', status: 'False', reason: REASONS.notReady, message: lags };
  const progressing: Draft = rolledOut
    ? { type: 'Progressing', status: 'False', reason: REASONS.rolledOut, message: ready }
    : { type: 'Progressing', status: 'True', reason: REASONS.rollingOut, message: lags };
  const blocked = failures.length > 0;
  const upgradeable: Draft =
    rolledOut && !blocked
      ? { type: 'Upgradeable', status: 'True', reason: REASONS.rolledOut, message: ready }
      : {
          type: 'Upgradeable',
          status: 'False',
          reason: blocked ? REASONS.applyFailed : REASONS.rollingOut,
          message: blocked ? degraded.message : `wait for the rollout to finish: ${lags}`,
        };
  return [available, progressing, degraded, upgradeable];
}

/**
 * The four conditions for a MetalLB resource at `generation`. A condition whose status did not
 * change keeps its `lastTransitionTime` from `previous`; conditions of other types in `previous`
 * are kept as they are (something else may have written them).
 */
export function metallbConditions(
  observed: MetalLBObserved,
  generation: number,
  now: Date,
  previous: readonly Condition[] = [],
): Condition[] {
  const drafts = draftConditions(observed);
  const out: Condition[] = drafts.map((d) => {
    const before = previous.find((p) => p.type === d.type);
    return {
      ...d,
      observedGeneration: generation,
      lastTransitionTime: before && before.status === d.status ? before.lastTransitionTime : formatTime(now),
    };
  });
  for (const p of previous) if (!drafts.some((d) => d.type === p.type)) out.push(p);
  return out;
}

/** True when the conditions say the components are still rolling out (worth a look again soon). */
export const isProgressing = (conditions: readonly Condition[]): boolean =>
  conditions.some((c) => c.type === 'Progressing' && c.status === 'True');

/** Whether two condition lists say the same (order-sensitive, as written). */
export const sameConditions = (a: readonly Condition[] | undefined, b: readonly Condition[] | undefined) =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/** An event the operator records on the MetalLB resource. */
export interface ResourceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/**
 * The Warning to record when `next` turns Degraded or says something new about it (a repeat of
 * the same Degraded condition is not told again, however often the resource is reconciled).
 */
export function degradedEvent(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[],
): ResourceEvent | undefined {
  const now = next.find((c) => c.type === 'Degraded');
  if (now?.status !== 'True') return undefined;
  const before = previous?.find((c) => c.type === 'Degraded');
  if (before?.status === 'True' && before.reason === now.reason && before.message === now.message)
    return undefined;
  return { type: 'Warning', reason: now.reason, message: now.message };
}
