/** Object metadata as the API server sends it (raw JSON: timestamps are strings). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  /** Server-side apply's record of which manager owns which fields. */
  managedFields?: ManagedFieldsEntry[];
}

/**
 * An object this one depends on: when the owner is deleted, the garbage collector deletes this one
 * (same namespace; a cluster-scoped owner for cluster-scoped dependents).
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** One manager's fields (`fieldsV1`: nested `{"f:<key>": {...}}`, a node without children is a field). */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/**
 * Any Kubernetes object as raw JSON. No index signature on purpose: typed objects declared as
 * interfaces elsewhere (the API package's CRD types) must satisfy it structurally.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A KubeObject whose other fields are read dynamically (events, leases, generic writes). */
export interface LooseKubeObject extends KubeObject {
  [field: string]: unknown;
}

/** Names a resource type, and with `name` one object. `plural` skips discovery when given. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
  plural?: string;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key caches and queues use. */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}
