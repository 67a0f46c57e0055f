import type { KubeObject, ObjectMeta } from './types.js';

/*
 * The core objects the components read, as the raw JSON the caches hold (timestamps are strings,
 * unlike client-node's typed models). Only the fields someone reads are declared.
 */

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    loadBalancerIP?: string;
    loadBalancerClass?: string;
    externalTrafficPolicy?: string;
    allocateLoadBalancerNodePorts?: boolean;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface Node extends KubeObject {
  metadata?: ObjectMeta;
  spec?: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
  status?: { conditions?: NodeCondition[]; addresses?: { type: string; address: string }[] };
}

export interface Namespace extends KubeObject {
  metadata?: ObjectMeta;
}

export interface EndpointSliceEndpoint {
  addresses: string[];
  nodeName?: string;
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

export interface EndpointSlice extends KubeObject {
  metadata?: ObjectMeta;
  addressType?: string;
  endpoints?: EndpointSliceEndpoint[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}
