import type { LabelSelector } from '@metallb-ts/ipam';

/** The parts of Kubernetes ObjectMeta these objects use. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
}

/** A standard Kubernetes condition (metav1.Condition). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Usage counts the controller writes on pools (int64 in the API; capped at 2^53-1, see poolStatusFor). */
export interface PoolStatus {
  assignedIPv4?: number;
  assignedIPv6?: number;
  availableIPv4?: number;
  availableIPv6?: number;
  conditions?: Condition[];
}

export interface BgpAdvertisement {
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  communities?: string[];
}

export interface AddressPoolSpec {
  protocol: 'layer2' | 'bgp';
  addresses: string[];
  /** Default true. */
  autoAssign?: boolean;
  bgpAdvertisements?: BgpAdvertisement[];
}

/** The seed's pool API (v1alpha1 and v1beta1, identical schemas). */
export interface AddressPool {
  apiVersion: 'metallb.io/v1beta1' | 'metallb.io/v1alpha1';
  kind: 'AddressPool';
  metadata: ObjectMeta;
  spec: AddressPoolSpec;
  status?: PoolStatus;
}

export interface ServiceAllocationSpec {
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  addresses: string[];
  /** Default true. */
  autoAssign?: boolean;
  /** Default false. */
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocationSpec;
}

export interface IPAddressPool {
  apiVersion: 'metallb.io/v1beta1';
  kind: 'IPAddressPool';
  metadata: ObjectMeta;
  spec: IPAddressPoolSpec;
  status?: PoolStatus;
}

export interface L2AdvertisementSpec {
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  interfaces?: string[];
  serviceSelectors?: LabelSelector[];
}

export interface L2Advertisement {
  apiVersion: 'metallb.io/v1beta1';
  kind: 'L2Advertisement';
  metadata: ObjectMeta;
  spec: L2AdvertisementSpec;
  status?: { conditions?: Condition[] };
}

export interface ServiceL2StatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  interfaces?: { name: string }[];
}

/** Written by the announcing speaker, one per (service, node). */
export interface ServiceL2Status {
  apiVersion: 'metallb.io/v1beta1';
  kind: 'ServiceL2Status';
  metadata: ObjectMeta;
  spec?: Record<string, never>;
  status?: ServiceL2StatusStatus;
}

export type LogLevel = 'all' | 'debug' | 'info' | 'warn' | 'error' | 'none';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: '' | 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** Pod settings for the controller Deployment or the speaker DaemonSet. */
export interface ComponentConfig {
  priorityClassName?: string;
  runtimeClassName?: string;
  /** A Kubernetes Affinity object, passed through unchanged. */
  affinity?: Record<string, unknown>;
  annotations?: Record<string, string>;
  /** A Kubernetes ResourceRequirements object, passed through unchanged. */
  resources?: Record<string, unknown>;
}

export interface MetalLBSpec {
  nodeSelector?: Record<string, string>;
  speakerTolerations?: Toleration[];
  controllerNodeSelector?: Record<string, string>;
  controllerTolerations?: Toleration[];
  /** Default info. */
  logLevel?: LogLevel;
  loadBalancerClass?: string;
  controllerConfig?: ComponentConfig;
  speakerConfig?: ComponentConfig;
}

/** The operator's object; only the one named `metallb` in the operator namespace is acted on. */
export interface MetalLB {
  apiVersion: 'metallb.io/v1beta1' | 'metallb.io/v1alpha1';
  kind: 'MetalLB';
  metadata: ObjectMeta;
  spec: MetalLBSpec;
  status?: { conditions?: Condition[] };
}

export const METALLB_RESOURCE_NAME = 'metallb';
