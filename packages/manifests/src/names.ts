// Every name metallb-ts gives an object it deploys, written once. The renderers, the binaries
// (lease names, field managers, event sources), the operator, the chart and the lab import these.

/** MetalLB's default install namespace, so existing manifests keep working. */
export const DEFAULT_NAMESPACE = 'metallb-system';

/** `app.kubernetes.io/name` on everything we deploy. */
export const APP_NAME = 'metallb-ts';

export type ComponentName = 'operator' | 'controller' | 'speaker';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  version: 'app.kubernetes.io/version',
  /** On cluster-scoped objects the operator made: they carry no ownerReference, so this finds them. */
  ownerName: 'metallb.io/owner-name',
  ownerNamespace: 'metallb.io/owner-namespace',
} as const;

/** Per component: the names of its ServiceAccount, RBAC objects, workload and metrics Service. */
export interface ComponentNames {
  /** ServiceAccount, namespaced Role and RoleBinding. */
  readonly serviceAccount: string;
  readonly role: string;
  /** ClusterRole and ClusterRoleBinding (cluster-scoped, so prefixed to stay unique). */
  readonly clusterRole: string;
  /** Deployment (operator, controller) or DaemonSet (speaker). */
  readonly workload: string;
  readonly metricsService: string;
  /** The container name in the pod. */
  readonly container: string;
  /** Event source (`reportingController` / `source.component`). */
  readonly eventSource: string;
}

const component = (c: ComponentName, eventSource: string): ComponentNames => ({
  serviceAccount: c,
  role: c,
  clusterRole: `${APP_NAME}:${c}`,
  workload: c,
  metricsService: `${c}-metrics`,
  container: c,
  eventSource,
});

export const COMPONENTS: Readonly<Record<ComponentName, ComponentNames>> = {
  operator: component('operator', 'metallb-operator'),
  controller: component('controller', 'metallb-controller'),
  speaker: component('speaker', 'metallb-speaker'),
};

/** The only MetalLB resource the operator acts on (in its own namespace). */
export const METALLB_RESOURCE_NAME = 'metallb';

/**
 * The operator's finalizer on the MetalLB resource it acts on: a deleted resource stays
 * (terminating) until the operator has deleted the cluster-scoped objects it made for it, which
 * garbage collection cannot remove (they cannot be owned by a namespaced object), also when the
 * operator was down at the time. Only the resource the operator acts on carries it.
 */
export const OPERATOR_FINALIZER = 'metallb.io/operator-cleanup';

/** Leases: one per leader-elected component. */
export const LEASES = {
  operator: 'metallb-operator',
  controller: 'metallb-controller',
  /**
   * The speakers' tie-break: asked only while gossip reports an exact half (two nodes, or an even
   * split); the side that holds it may announce. No writes while gossip decides alone.
   */
  speakerTieBreak: `${APP_NAME}-speaker-tiebreak`,
} as const;

/** Server-side apply field managers. */
export const FIELD_MANAGERS = {
  operator: 'metallb-operator',
  controller: 'metallb-controller',
  speaker: 'metallb-speaker',
} as const;

/** The validating admission webhook (served by the operator). */
export const WEBHOOK = {
  configuration: `${APP_NAME}-validating-webhook`,
  service: 'webhook-service',
  /** Secret holding the serving certificate and key (`tls.crt`, `tls.key`) and the CA (`ca.crt`). */
  certSecret: 'webhook-server-cert',
  port: 9443,
  servicePort: 443,
} as const;

/** A kind the webhook validates: its plural, the path it is served on and the webhook's name. */
export interface ValidatedKind {
  readonly kind: string;
  readonly plural: string;
  /** `/validate-<kind in lower case>`. */
  readonly path: string;
  /** The webhook's name in the configuration (must be unique and look like a domain name). */
  readonly webhook: string;
}

const validated = <K extends string>(kind: K, plural: string): ValidatedKind & { kind: K } => ({
  kind,
  plural,
  path: `/validate-${kind.toLowerCase()}`,
  webhook: `${kind.toLowerCase()}validationwebhook.metallb.io`,
});

/** What the validating webhook checks at admission (CREATE and UPDATE). */
export const VALIDATED_KINDS = [
  validated('MetalLB', 'metallbs'),
  validated('IPAddressPool', 'ipaddresspools'),
  validated('AddressPool', 'addresspools'),
  validated('L2Advertisement', 'l2advertisements'),
] as const;

export type ValidatedKindName = (typeof VALIDATED_KINDS)[number]['kind'];

/** The webhook server's path for each kind it validates (the configuration's `clientConfig.service.path`). */
export const WEBHOOK_PATHS = Object.fromEntries(VALIDATED_KINDS.map((k) => [k.kind, k.path])) as Record<
  ValidatedKindName,
  string
>;

/** Ports every component serves `/metrics`, `/healthz`, `/readyz` on (MetalLB's 7472). */
export const METRICS_PORT = 7472;

/**
 * The speakers' gossip membership (MetalLB's memberlist names): the Secret holding the shared
 * HMAC key, created by the controller when missing, and the UDP port.
 */
export const MEMBERLIST = {
  secret: 'memberlist',
  /** The signing key (MetalLB's key name). */
  key: 'secretkey',
  /** Also accepted while a rotation is under way (the old key, or the next one before it signs). */
  secondaryKey: 'secretkey-secondary',
  port: 7946,
} as const;

/**
 * The Prometheus reader: a Role and RoleBinding in the install namespace that let a Prometheus
 * (its ServiceAccount lives elsewhere) discover the metrics Services' endpoints and pods. The
 * default subject is kube-prometheus' `monitoring/prometheus-k8s`.
 */
export const PROMETHEUS_READER = {
  role: `${APP_NAME}-prometheus-reader`,
  serviceAccount: { name: 'prometheus-k8s', namespace: 'monitoring' },
} as const;
