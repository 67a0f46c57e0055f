// Which of the objects on the server are the MetalLB resource's, and how they compare with what
// the renderer wants. Pure: the reconciler feeds it cache contents and rendered objects.
import { APP_NAME, LABELS } from '@metallb-ts/manifests';
import type { KubeObject } from '@metallb-ts/k8s-runtime';

/** A kind the operator deploys and watches for drift. */
export interface OwnedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Every kind the renderer makes that the operator watches, repairs and cleans up. */
export const OWNED_KINDS: readonly OwnedKind[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    namespaced: false,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
];

/** The label selector of the drift watches: everything metallb-ts deploys carries it. */
export const OWNED_SELECTOR = `${LABELS.name}=${APP_NAME}`;

/** The MetalLB resource as an owner. */
export interface Owner {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** `Kind namespace/name` (or `Kind name` when cluster-scoped), as people read it in messages. */
export function describeObject(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind ?? '?'} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '?'}`;
}

/** Identity of an object across kinds: `group/Kind/namespace/name` (version left out). */
export function objectId(obj: KubeObject): string {
  const group = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/')[0] : '';
  return `${group}/${obj.kind ?? ''}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * Whether `obj` was made for `owner`: namespaced objects by an ownerReference with its uid (or,
 * when the uid is not known, its name), cluster-scoped ones by the owner labels.
 */
export function isOwnedBy(
  obj: KubeObject,
  owner: Pick<Owner, 'namespace' | 'name'> & { uid?: string },
): boolean {
  const labels = obj.metadata?.labels ?? {};
  if (labels[LABELS.ownerName] === owner.name && labels[LABELS.ownerNamespace] === owner.namespace)
    return true;
  if (obj.metadata?.namespace !== owner.namespace) return false;
  return (obj.metadata?.ownerReferences ?? []).some(
    (r) => r.kind === 'MetalLB' && (owner.uid ? r.uid === owner.uid : r.name === owner.name),
  );
}

/**
 * Whether `manager` server-side applied fields of `obj` (its managedFields say so). Objects that
 * others made for the same owner (a Secret the controller creates, the webhook's certificate) are
 * not ours to delete.
 */
export function appliedBy(obj: KubeObject, manager: string): boolean {
  const fields = (obj.metadata as { managedFields?: { manager?: string; operation?: string }[] } | undefined)
    ?.managedFields;
  return (fields ?? []).some((f) => f.manager === manager && f.operation === 'Apply');
}

/**
 * Objects that belong to `owner` and that `manager` applied, but are not rendered any more:
 * they are to be deleted.
 */
export function staleObjects(
  rendered: readonly KubeObject[],
  existing: readonly KubeObject[],
  owner: Owner,
  manager: string,
): KubeObject[] {
  const wanted = new Set(rendered.map(objectId));
  return existing.filter((o) => isOwnedBy(o, owner) && appliedBy(o, manager) && !wanted.has(objectId(o)));
}

/**
 * The first field set in `wanted` that `actual` lacks or holds differently, as a path
 * (`spec.template.spec.containers[0].env[2].value`), or undefined when `actual` has everything
 * `wanted` sets. Fields only `actual` has (defaults, status, other managers' fields) do not count;
 * a list must hold at least the wanted items, in order.
 */
export function firstDifference(wanted: unknown, actual: unknown, path = ''): string | undefined {
  // The API server leaves empty lists and maps, and zero values of optional fields, out of what
  // it returns.
  if (actual === undefined && isEmpty(wanted)) return undefined;
  if (Array.isArray(wanted)) {
    if (!Array.isArray(actual) || actual.length < wanted.length) return path || '(root)';
    for (const [i, w] of wanted.entries()) {
      const d = firstDifference(w, actual[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (typeof wanted === 'object' && wanted !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return path || '(root)';
    for (const [k, w] of Object.entries(wanted)) {
      if (w === undefined) continue;
      const d = firstDifference(w, (actual as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return wanted === actual ? undefined : path || '(root)';
}

const isEmpty = (v: unknown): boolean =>
  v === null ||
  v === '' ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
