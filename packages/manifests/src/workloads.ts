// The controller Deployment, the speaker DaemonSet and the operator Deployment. Every
// environment variable comes from the binary's settings definition.
import type { ComponentConfig, LogLevel, MetalLBSpec, Toleration } from '@metallb-ts/api';
import { componentLabels, componentMeta, selectorLabels } from './labels.js';
import { COMPONENTS, MEMBERLIST, METRICS_PORT, WEBHOOK, type ComponentName } from './names.js';
import type {
  Container,
  DaemonSet,
  Deployment,
  HttpProbe,
  PodSpec,
  PodTemplate,
  SecurityContext,
} from './objects.js';
import {
  CONTROLLER_SETTINGS,
  OPERATOR_SETTINGS,
  SPEAKER_SETTINGS,
  settingsEnv,
  type EnvVar,
  type SettingLogLevel,
} from './settings.js';

/** What the components are rendered from: the MetalLB resource's spec and the images to run. */
export interface ComponentsInput {
  readonly namespace: string;
  readonly spec: MetalLBSpec;
  readonly images: { readonly controller: string; readonly speaker: string };
  /** The version label (`app.kubernetes.io/version`), usually the operator's version. */
  readonly version: string;
}

/** The name of the metrics/probes port in every pod, on `METRICS_PORT`. */
export const MONITORING_PORT_NAME = 'monitoring';
export const WEBHOOK_PORT_NAME = 'webhook';
/** The UID the controller and operator run as (`nobody`): numeric, so `runAsNonRoot` can check it. */
export const NON_ROOT_UID = 65534;
/** Linux nodes only: the binaries are Linux binaries (and the speaker needs Linux raw sockets). */
export const OS_NODE_SELECTOR: Readonly<Record<string, string>> = { 'kubernetes.io/os': 'linux' };
/**
 * MetalLB's chart tolerates the control-plane taints for the speaker (`tolerateMaster: true`),
 * so Services stay reachable through control-plane nodes too.
 */
export const CONTROL_PLANE_TOLERATIONS: readonly Toleration[] = [
  { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
];

/** The binaries' level for the MetalLB resource's `logLevel` (`all` is MetalLB's word for debug). */
export function settingLogLevel(level: LogLevel | undefined): SettingLogLevel {
  return level === undefined ? 'info' : level === 'all' ? 'debug' : level;
}

/** The settings the MetalLB resource sets on both the controller and the speaker. */
export function specSettings(spec: MetalLBSpec): { logLevel: SettingLogLevel; loadBalancerClass?: string } {
  return {
    logLevel: settingLogLevel(spec.logLevel),
    ...(spec.loadBalancerClass ? { loadBalancerClass: spec.loadBalancerClass } : {}),
  };
}

const probe = (path: string): HttpProbe => ({
  httpGet: { path, port: MONITORING_PORT_NAME },
  periodSeconds: 10,
  timeoutSeconds: 2,
  failureThreshold: 3,
});

const nonRoot: SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: NON_ROOT_UID,
  runAsGroup: NON_ROOT_UID,
  capabilities: { drop: ['ALL'] },
};

function container(
  component: ComponentName,
  image: string,
  env: EnvVar[],
  securityContext: SecurityContext,
  resources: Record<string, unknown> | undefined,
  extraPorts: Container['ports'] = [],
): Container {
  return {
    name: COMPONENTS[component].container,
    image,
    env,
    ports: [{ name: MONITORING_PORT_NAME, containerPort: METRICS_PORT, protocol: 'TCP' }, ...extraPorts],
    livenessProbe: { ...probe('/healthz'), initialDelaySeconds: 10 },
    readinessProbe: probe('/readyz'),
    securityContext,
    ...(resources ? { resources } : {}),
  };
}

/** The pod template fields `controllerConfig` / `speakerConfig` set. */
function podConfig(config: ComponentConfig | undefined): Partial<PodSpec> {
  return {
    ...(config?.priorityClassName ? { priorityClassName: config.priorityClassName } : {}),
    ...(config?.runtimeClassName ? { runtimeClassName: config.runtimeClassName } : {}),
    ...(config?.affinity ? { affinity: config.affinity } : {}),
  };
}

function template(
  component: ComponentName,
  version: string,
  config: ComponentConfig | undefined,
  spec: PodSpec,
): PodTemplate {
  const annotations = config?.annotations;
  return {
    metadata: {
      labels: componentLabels(component, version),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    },
    spec: { ...spec, ...podConfig(config) },
  };
}

const tolerations = (list: readonly Toleration[]): { tolerations?: Toleration[] } =>
  list.length > 0 ? { tolerations: list.map((t) => ({ ...t })) } : {};

/** The controller: one replica (it elects a leader anyway), non-root, no capabilities. */
export function controllerDeployment(input: ComponentsInput): Deployment {
  const { namespace, spec, images, version } = input;
  const names = COMPONENTS.controller;
  const env = settingsEnv(CONTROLLER_SETTINGS, specSettings(spec));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: componentMeta('controller', names.workload, namespace, version),
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels('controller') },
      template: template('controller', version, spec.controllerConfig, {
        serviceAccountName: names.serviceAccount,
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        nodeSelector: { ...OS_NODE_SELECTOR, ...spec.controllerNodeSelector },
        ...tolerations(spec.controllerTolerations ?? []),
        containers: [
          container('controller', images.controller, env, nonRoot, spec.controllerConfig?.resources),
        ],
      }),
    },
  };
}

/**
 * The speaker: one per node, in the host's network namespace (it answers ARP/NDP on the node's
 * interfaces). It needs raw sockets there, so it runs as UID 0 with `NET_RAW` and nothing else:
 * not privileged, no privilege escalation, read-only root file system.
 */
export function speakerDaemonSet(input: ComponentsInput): DaemonSet {
  const { namespace, spec, images, version } = input;
  const names = COMPONENTS.speaker;
  const env = settingsEnv(SPEAKER_SETTINGS, specSettings(spec));
  const securityContext: SecurityContext = {
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsUser: 0,
    capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: componentMeta('speaker', names.workload, namespace, version),
    spec: {
      selector: { matchLabels: selectorLabels('speaker') },
      // One node at a time, so no address is dark for longer than one failover.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: template('speaker', version, spec.speakerConfig, {
        serviceAccountName: names.serviceAccount,
        hostNetwork: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        terminationGracePeriodSeconds: 5,
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        nodeSelector: { ...OS_NODE_SELECTOR, ...spec.nodeSelector },
        ...tolerations([...CONTROL_PLANE_TOLERATIONS, ...(spec.speakerTolerations ?? [])]),
        containers: [
          container('speaker', images.speaker, env, securityContext, spec.speakerConfig?.resources, [
            // The gossip membership (hostNetwork: documents the port firewalls must open between nodes).
            { name: 'memberlist-udp', containerPort: MEMBERLIST.port, protocol: 'UDP' },
          ]),
        ],
      }),
    },
  };
}

/** How the operator itself is installed. */
export interface OperatorInput {
  readonly namespace: string;
  readonly image: string;
  readonly version: string;
  /** Images of the components it deploys (its `CONTROLLER_IMAGE` / `SPEAKER_IMAGE`). */
  readonly controllerImage: string;
  readonly speakerImage: string;
  readonly logLevel?: SettingLogLevel;
  /** Default 1; more replicas stand by behind the leader election. */
  readonly replicas?: number;
}

export function operatorDeployment(input: OperatorInput): Deployment {
  const names = COMPONENTS.operator;
  const env = settingsEnv(OPERATOR_SETTINGS, {
    logLevel: input.logLevel ?? 'info',
    controllerImage: input.controllerImage,
    speakerImage: input.speakerImage,
    webhookPort: WEBHOOK.port,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: componentMeta('operator', names.workload, input.namespace, input.version),
    spec: {
      replicas: input.replicas ?? 1,
      selector: { matchLabels: selectorLabels('operator') },
      template: template('operator', input.version, undefined, {
        serviceAccountName: names.serviceAccount,
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        nodeSelector: { ...OS_NODE_SELECTOR },
        containers: [
          container('operator', input.image, env, nonRoot, undefined, [
            { name: WEBHOOK_PORT_NAME, containerPort: WEBHOOK.port, protocol: 'TCP' },
          ]),
        ],
      }),
    },
  };
}
