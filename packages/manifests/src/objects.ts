// The shapes of the Kubernetes objects the renderers return: plain data, only the fields we
// write. The manifests package is pure, so it has its own types instead of the client's.
import type { Toleration } from '@metallb-ts/api';
import type { EnvVar } from './settings.js';

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** Any object we render: enough to apply it, find it and delete it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
}

export interface ContainerPort {
  name: string;
  containerPort: number;
  protocol: 'TCP' | 'UDP';
}

export interface HttpProbe {
  httpGet: { path: string; port: string };
  initialDelaySeconds?: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation: boolean;
  readOnlyRootFilesystem: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  capabilities: { drop: string[]; add?: string[] };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env: EnvVar[];
  ports: ContainerPort[];
  livenessProbe: HttpProbe;
  readinessProbe: HttpProbe;
  securityContext: SecurityContext;
  resources?: Record<string, unknown>;
}

export interface PodSpec {
  serviceAccountName: string;
  containers: Container[];
  nodeSelector: Record<string, string>;
  tolerations?: Toleration[];
  hostNetwork?: boolean;
  dnsPolicy?: 'ClusterFirst' | 'ClusterFirstWithHostNet';
  terminationGracePeriodSeconds?: number;
  securityContext?: { seccompProfile: { type: 'RuntimeDefault' } };
  priorityClassName?: string;
  runtimeClassName?: string;
  affinity?: Record<string, unknown>;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface Deployment extends KubeObject {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  spec: {
    replicas: number;
    selector: LabelSelector;
    strategy?: { type: 'RollingUpdate'; rollingUpdate: { maxUnavailable: number; maxSurge: number } };
    template: PodTemplate;
  };
}

export interface DaemonSet extends KubeObject {
  apiVersion: 'apps/v1';
  kind: 'DaemonSet';
  spec: {
    selector: LabelSelector;
    updateStrategy: { type: 'RollingUpdate'; rollingUpdate: { maxUnavailable: number } };
    template: PodTemplate;
  };
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: string;
  protocol: 'TCP';
}

export interface Service extends KubeObject {
  apiVersion: 'v1';
  kind: 'Service';
  spec: { selector: Record<string, string>; ports: ServicePort[]; clusterIP?: 'None'; type: 'ClusterIP' };
}

export interface ServiceAccount extends KubeObject {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
}

export interface Namespace extends KubeObject {
  apiVersion: 'v1';
  kind: 'Namespace';
}

/** An RBAC rule as the API server reads it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface ClusterRole extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  rules: PolicyRule[];
}

export interface Role extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'Role';
  rules: PolicyRule[];
}

export interface Subject {
  kind: 'ServiceAccount';
  name: string;
  namespace: string;
}

export interface RoleRef {
  apiGroup: 'rbac.authorization.k8s.io';
  kind: 'Role' | 'ClusterRole';
  name: string;
}

export interface ClusterRoleBinding extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding';
  roleRef: RoleRef;
  subjects: Subject[];
}

export interface RoleBinding extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'RoleBinding';
  roleRef: RoleRef;
  subjects: Subject[];
}

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: ('CREATE' | 'UPDATE' | 'DELETE')[];
  resources: string[];
  scope: 'Namespaced';
}

export interface ValidatingWebhook {
  name: string;
  clientConfig: {
    service: { name: string; namespace: string; path: string; port: number };
    caBundle?: string;
  };
  rules: WebhookRule[];
  sideEffects: 'None';
  admissionReviewVersions: string[];
  failurePolicy: 'Fail' | 'Ignore';
  matchPolicy: 'Equivalent';
  namespaceSelector?: LabelSelector;
  timeoutSeconds: number;
}

export interface ValidatingWebhookConfiguration extends KubeObject {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingWebhookConfiguration';
  webhooks: ValidatingWebhook[];
}

/** Cluster-scoped kinds among those we render (they carry no namespace and no ownerReference). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
]);

export const isClusterScoped = (o: KubeObject): boolean => CLUSTER_SCOPED_KINDS.has(o.kind);
