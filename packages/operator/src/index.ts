export {
  metallbConditions,
  degradedEvent,
  deploymentLag,
  daemonSetLag,
  isProgressing,
  sameConditions,
  CONDITION_TYPES,
  REASONS,
  type ApplyFailure,
  type ConditionType,
  type DaemonSetObserved,
  type DeploymentObserved,
  type MetalLBObserved,
  type ResourceEvent,
} from './conditions.js';
export {
  OWNED_KINDS,
  OWNED_SELECTOR,
  describeObject,
  firstDifference,
  isOwnedBy,
  objectId,
  staleObjects,
  type OwnedKind,
  type Owner,
} from './owned-objects.js';
export {
  applyObjects,
  type ApplyApi,
  type ApplyDeps,
  type ApplyOutcome,
  type AppliedRecord,
} from './apply-objects.js';
export {
  MetalLBReconciler,
  IPFAILOVER_LABEL,
  type ReconcilerApi,
  type ReconcilerCaches,
  type ReconcilerDeps,
} from './metallb-reconciler.js';
export { Operator, type OperatorApi, type OperatorDeps } from './operator.js';
export type { RenderInput, RenderOwner, Renderer } from './render-input.js';
export {
  cleaningUp,
  decideLifecycle,
  type Leftover,
  type LifecycleInput,
  type LifecycleResource,
  type LifecycleStep,
} from './lifecycle.js';
export { clusterLeftovers, type FinalizerApi } from './metallb-finalizer.js';
