// What one pass does with a MetalLB resource's lifecycle, decided from values alone: whether the
// operator's finalizer must be put on or taken off, whether the components are deployed, and, once
// the resource is deleted, which cluster-scoped objects made for it are still to go. Pure: the
// reconciler reads the resource and what exists, calls `decideLifecycle`, and does what it says.

/** The MetalLB resource as the decision sees it; undefined when it does not exist. */
export interface LifecycleResource {
  /** metadata.deletionTimestamp is set: it is being deleted. */
  readonly deleting: boolean;
  readonly finalizers: readonly string[];
}

/** A cluster-scoped object made for the resource that still exists. */
export interface Leftover {
  /** `Kind name`, as messages name it. */
  readonly name: string;
  /** Its own deletionTimestamp is set: deleted, waiting on its own finalizers. */
  readonly terminating: boolean;
}

export interface LifecycleInput {
  readonly resource: LifecycleResource | undefined;
  /** The resource is the one this operator acts on (its name, in its namespace). */
  readonly managed: boolean;
  /** The operator's finalizer (OPERATOR_FINALIZER). */
  readonly finalizer: string;
  /**
   * The cluster-scoped objects made for the resource that exist, read from the server: only
   * consulted when `cleaningUp(resource)` (the adapter reads them only then).
   */
  readonly leftovers: readonly Leftover[];
}

export type LifecycleStep =
  /** Render and apply the components; first put the finalizer on when `addFinalizer`. */
  | { readonly step: 'deploy'; readonly addFinalizer: boolean }
  /**
   * Not the resource this operator acts on: report it Degraded; first take off a finalizer of ours
   * it carries (copied, or left by an earlier install), which nothing would ever remove.
   */
  | { readonly step: 'report-unmanaged'; readonly removeFinalizer: boolean }
  /** Deleted (or gone): delete these leftovers, then look again. */
  | { readonly step: 'delete'; readonly objects: readonly string[] }
  /** Deleted: every leftover is terminating already; look again later. */
  | { readonly step: 'wait'; readonly objects: readonly string[] }
  /** Deleted and nothing left: take the finalizer off, so the resource goes. */
  | { readonly step: 'release' }
  /** Gone (or deleted without our finalizer) and nothing left: nothing to do. */
  | { readonly step: 'done' };

/** The resource is gone or being deleted: what it made is to be removed. */
export function cleaningUp(resource: LifecycleResource | undefined): boolean {
  return resource === undefined || resource.deleting;
}

export function decideLifecycle(input: LifecycleInput): LifecycleStep {
  const { resource, managed, finalizer } = input;
  if (resource === undefined || resource.deleting) {
    const pending = input.leftovers.filter((o) => !o.terminating).map((o) => o.name);
    if (pending.length > 0) return { step: 'delete', objects: pending };
    if (input.leftovers.length > 0) return { step: 'wait', objects: input.leftovers.map((o) => o.name) };
    return resource?.finalizers.includes(finalizer) ? { step: 'release' } : { step: 'done' };
  }
  const holds = resource.finalizers.includes(finalizer);
  if (!managed) return { step: 'report-unmanaged', removeFinalizer: holds };
  return { step: 'deploy', addFinalizer: !holds };
}
