// The Prometheus reader: what a Prometheus outside the install namespace needs to discover our
// metrics endpoints with Kubernetes service discovery (roles `endpoints` and `endpointslice`),
// as data with a reason per rule, rendered into a Role and a RoleBinding of the install namespace.
import { APP_NAME, LABELS, PROMETHEUS_READER } from './names.js';
import type { Role, RoleBinding } from './objects.js';
import { policyRule, type Rule } from './rbac.js';

const READ = ['get', 'list', 'watch'] as const;

/** Read-only, namespaced, and nothing but what service discovery lists and watches. */
export const PROMETHEUS_READER_RULES: readonly Rule[] = [
  {
    apiGroups: [''],
    resources: ['services', 'endpoints', 'pods'],
    verbs: [...READ],
    why: 'service discovery (role endpoints): the metrics Services, their endpoints and the pods behind them (node and pod names for target labels)',
  },
  {
    apiGroups: ['discovery.k8s.io'],
    resources: ['endpointslices'],
    verbs: [...READ],
    why: "service discovery (role endpointslice): the metrics Services' EndpointSlices",
  },
];

/** The ServiceAccount a Prometheus runs as (the RoleBinding's subject). */
export interface PrometheusServiceAccount {
  readonly name: string;
  readonly namespace: string;
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const meta = (namespace: string) => ({
  name: PROMETHEUS_READER.role,
  namespace,
  labels: { [LABELS.name]: APP_NAME, [LABELS.component]: 'prometheus-reader', [LABELS.partOf]: APP_NAME },
});

export function prometheusReaderRole(namespace: string): Role {
  return {
    apiVersion: RBAC_API,
    kind: 'Role',
    metadata: meta(namespace),
    rules: PROMETHEUS_READER_RULES.map(policyRule),
  };
}

/** Binds the reader Role in `namespace` to `serviceAccount` (which may live in any namespace). */
export function prometheusReaderRoleBinding(
  namespace: string,
  serviceAccount: PrometheusServiceAccount = PROMETHEUS_READER.serviceAccount,
): RoleBinding {
  return {
    apiVersion: RBAC_API,
    kind: 'RoleBinding',
    metadata: meta(namespace),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PROMETHEUS_READER.role },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: serviceAccount.namespace }],
  };
}

/** The Role and its RoleBinding. */
export function renderPrometheusReader(
  namespace: string,
  serviceAccount: PrometheusServiceAccount = PROMETHEUS_READER.serviceAccount,
): [Role, RoleBinding] {
  return [prometheusReaderRole(namespace), prometheusReaderRoleBinding(namespace, serviceAccount)];
}
