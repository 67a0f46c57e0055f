import {
  COMPONENTS,
  componentLabels,
  METRICS_PORT,
  MONITORING_PORT_NAME,
  selectorLabels,
} from '@metallb-ts/manifests';
import type { ControlPlane } from './control-plane.js';
import { waitForDefaultServiceAccount, INSTALL_NAMESPACE } from './cluster-setup.js';
import type { LabNode } from './topology.js';
import { waitFor } from './wait-for.js';

/** Namespace of the demo app (backend "pods" on every node). */
export const DEMO_NAMESPACE = 'demo';
export const DEMO_APP_LABEL = { app: 'demo' } as const;
export const BACKEND_PORT = 8080;
export const DEMO_POOL_RANGE = '203.0.113.200-203.0.113.220';

/** `kubectl apply` of these objects as one List. */
export async function applyJson(cp: ControlPlane, objects: unknown[]): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  await cp.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(list) });
}

async function patchStatus(
  cp: ControlPlane,
  resource: string,
  name: string,
  namespace: string | undefined,
  status: unknown,
): Promise<void> {
  const ns = namespace ? ['-n', namespace] : [];
  await cp.kubectlOk([
    ...ns,
    'patch',
    resource,
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** A Node condition in the form the API expects (times now). */
function condition(type: string, status: 'True' | 'False', reason: string, message: string) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now };
}

/**
 * Creates Node objects for the lab's nodes (no kubelet: the lab writes what a kubelet would),
 * with InternalIP = the management address first (what speakers gossip on, as a kubelet reports
 * the node's primary address), then the data addresses, and condition Ready=True via the status
 * subresource.
 */
export async function createNodes(cp: ControlPlane, nodes: readonly LabNode[]): Promise<void> {
  await applyJson(
    cp,
    nodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        labels: {
          'kubernetes.io/hostname': n.name,
          'kubernetes.io/os': 'linux',
          'metallb-ts.lab/node': 'true',
        },
      },
      spec: {},
    })),
  );
  for (const n of nodes) await setNodeConditions(cp, n, { Ready: 'True' });
}

/**
 * Writes a node's status: addresses plus the given conditions (Ready defaults to True; e.g.
 * `{ NetworkUnavailable: 'True' }` to exclude it from announcing).
 */
export async function setNodeConditions(
  cp: ControlPlane,
  node: LabNode,
  conditions: Record<string, 'True' | 'False'>,
): Promise<void> {
  const all = { Ready: 'True' as const, ...conditions };
  await patchStatus(cp, 'node', node.name, undefined, {
    addresses: [
      { type: 'InternalIP', address: node.mgmtIp },
      { type: 'InternalIP', address: node.dataIp },
      { type: 'InternalIP', address: node.dataIp6 },
      { type: 'Hostname', address: node.name },
    ],
    conditions: Object.entries(all).map(([type, status]) =>
      condition(
        type,
        status,
        type === 'Ready' ? 'KubeletReady' : 'MetalLbTsLab',
        `set by the metallb-ts lab`,
      ),
    ),
    nodeInfo: {
      architecture: 'amd64',
      operatingSystem: 'linux',
      kubeletVersion: 'v0.0.0-lab',
      kubeProxyVersion: 'v0.0.0-lab',
      osImage: 'metallb-ts lab namespace',
      kernelVersion: '',
      containerRuntimeVersion: 'none://lab',
      bootID: '',
      machineID: '',
      systemUUID: '',
    },
  });
}

export function podName(node: LabNode): string {
  return `demo-${node.name}`;
}

/** Creates the demo namespace and one host-network "pod" per node, then marks each running and ready. */
export async function createDemoPods(cp: ControlPlane, nodes: readonly LabNode[]): Promise<void> {
  // A lab's stop empties this namespace and keeps it, but anyone may have deleted it (a person
  // at the lab, an older lab); creating into it while it terminates is refused, so wait until it
  // is gone (or was never there) first.
  await waitFor(
    `namespace ${DEMO_NAMESPACE} from an earlier lab to finish terminating`,
    async () => {
      const r = await cp.kubectl(['get', 'namespace', DEMO_NAMESPACE, '-o', 'jsonpath={.status.phase}']);
      const phase = r.code === 0 ? r.stdout.trim() : 'absent';
      return phase === 'Terminating' ? { done: false, observed: phase } : { done: true, value: phase };
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  await applyJson(cp, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } }]);
  await waitForDefaultServiceAccount(cp, DEMO_NAMESPACE);
  await applyJson(
    cp,
    nodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName(n), namespace: DEMO_NAMESPACE, labels: { ...DEMO_APP_LABEL } },
      spec: {
        nodeName: n.name,
        hostNetwork: true,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'web',
            image: 'metallb-ts-lab/backend:local',
            ports: [{ name: 'http', containerPort: BACKEND_PORT, protocol: 'TCP' }],
          },
        ],
      },
    })),
  );
  for (const n of nodes) await setPodReady(cp, n, true);
}

/** Marks a node's demo pod ready or not (EndpointSlices follow through kube-controller-manager). */
export async function setPodReady(cp: ControlPlane, node: LabNode, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = ready ? 'True' : 'False';
  await patchStatus(cp, 'pod', podName(node), DEMO_NAMESPACE, {
    phase: 'Running',
    hostIP: node.dataIp,
    hostIPs: [{ ip: node.dataIp }, { ip: node.dataIp6 }],
    podIP: node.dataIp,
    podIPs: [{ ip: node.dataIp }, { ip: node.dataIp6 }],
    startTime: now,
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status, lastTransitionTime: now },
      { type: 'Ready', status, lastTransitionTime: now },
    ],
    containerStatuses: [
      {
        name: 'web',
        image: 'metallb-ts-lab/backend:local',
        imageID: '',
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      },
    ],
  });
}

/** The speaker Pod of a lab node (the process lab: the speaker itself runs as a process). */
export const speakerPodName = (node: string): string => `speaker-${node}`;

/** `kubectl -l` for the speaker DaemonSet's Pods. */
export const SPEAKER_POD_SELECTOR = Object.entries(selectorLabels('speaker'))
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

/**
 * The Pod object a speaker DaemonSet would have on `node` (its labels, as the operator renders
 * them; hostNetwork; scheduled there), then its status as the kubelet would write it once the
 * container runs: the speakers find their gossip peers in these. Idempotent.
 */
export async function createSpeakerPod(cp: ControlPlane, node: LabNode): Promise<void> {
  const names = COMPONENTS.speaker;
  await applyJson(cp, [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: speakerPodName(node.name),
        namespace: INSTALL_NAMESPACE,
        labels: componentLabels('speaker'),
      },
      spec: {
        nodeName: node.name,
        hostNetwork: true,
        serviceAccountName: names.serviceAccount,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        // The monitoring port as the DaemonSet declares it: Prometheus finds the speaker by it.
        containers: [
          {
            name: names.container,
            image: 'metallb-ts/speaker:lab-process',
            ports: [{ name: MONITORING_PORT_NAME, containerPort: METRICS_PORT, protocol: 'TCP' }],
          },
        ],
      },
    },
  ]);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  // hostNetwork: the Pod's IP is the node's (its InternalIP, the management address).
  await patchStatus(cp, 'pod', speakerPodName(node.name), INSTALL_NAMESPACE, {
    phase: 'Running',
    hostIP: node.mgmtIp,
    hostIPs: [{ ip: node.mgmtIp }],
    podIP: node.mgmtIp,
    podIPs: [{ ip: node.mgmtIp }],
    startTime: now,
    conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
      type,
      status: 'True',
      lastTransitionTime: now,
    })),
    containerStatuses: [
      {
        name: names.container,
        image: 'metallb-ts/speaker:lab-process',
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      },
    ],
  });
}

/**
 * Deletes a node's speaker Pod at once (no kubelet to wait for). `orphan`: what it owns (its
 * ServiceL2Status objects) stays, as when a DaemonSet replaces a Pod and the new speaker adopts them.
 */
export async function deleteSpeakerPod(
  cp: ControlPlane,
  node: string,
  o: { orphan?: boolean } = {},
): Promise<void> {
  await cp.kubectlOk([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'pod',
    speakerPodName(node),
    '--ignore-not-found',
    '--grace-period=0',
    '--force',
    ...(o.orphan ? ['--cascade=orphan'] : []),
    '--wait=true',
  ]);
}

export interface DemoServiceOptions {
  readonly name?: string;
  readonly namespace?: string;
  readonly port?: number;
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  readonly ipFamilies?: readonly ('IPv4' | 'IPv6')[];
  readonly ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  readonly annotations?: Record<string, string>;
}

/** A LoadBalancer Service selecting the demo backends (port -> 8080). */
export function demoService(o: DemoServiceOptions = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: o.name ?? 'demo',
      namespace: o.namespace ?? DEMO_NAMESPACE,
      annotations: o.annotations ?? {},
    },
    spec: {
      type: 'LoadBalancer',
      selector: { ...DEMO_APP_LABEL },
      ports: [{ name: 'http', port: o.port ?? 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
      externalTrafficPolicy: o.externalTrafficPolicy ?? 'Cluster',
      ...(o.ipFamilies ? { ipFamilies: o.ipFamilies } : {}),
      ...(o.ipFamilyPolicy ? { ipFamilyPolicy: o.ipFamilyPolicy } : {}),
    },
  };
}

/** IPAddressPool `demo` (203.0.113.200-220) and L2Advertisement `demo` (on `interfaces`, or all). */
export function demoPoolObjects(interfaces?: readonly string[]): unknown[] {
  return [
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'demo', namespace: INSTALL_NAMESPACE },
      spec: { addresses: [DEMO_POOL_RANGE] },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'L2Advertisement',
      metadata: { name: 'demo', namespace: INSTALL_NAMESPACE },
      spec: { ipAddressPools: ['demo'], ...(interfaces ? { interfaces } : {}) },
    },
  ];
}

/**
 * A pool of one address (`tiny`, not auto-assigned) and Service demo/fills-tiny asking for it: the
 * pool is full, so MetalLBAddressPoolExhausted must fire for it.
 */
export function filledPoolObjects(): unknown[] {
  return [
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'tiny', namespace: INSTALL_NAMESPACE },
      spec: { addresses: ['203.0.113.230/32'], autoAssign: false },
    },
    demoService({ name: 'fills-tiny', annotations: { 'metallb.io/address-pool': 'tiny' } }),
  ];
}

/** The demo: IPAddressPool `demo` (203.0.113.200-220), L2Advertisement `demo`, Service demo/demo. */
export async function applyDemo(cp: ControlPlane): Promise<void> {
  await applyJson(cp, [...demoPoolObjects(), demoService()]);
}

/** Endpoint addresses (ready ones) of a Service, from its EndpointSlices. */
export async function readyEndpointAddresses(
  cp: ControlPlane,
  namespace: string,
  service: string,
): Promise<string[]> {
  const out = await cp.kubectlOk([
    '-n',
    namespace,
    'get',
    'endpointslices.discovery.k8s.io',
    '-l',
    `kubernetes.io/service-name=${service}`,
    '-o',
    'json',
  ]);
  const list = JSON.parse(out) as {
    items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
  };
  return list.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false)
    .flatMap((e) => e.addresses)
    .sort();
}

/** The ClusterIP Service `waitForEndpointSlicesCurrent` creates and deletes again. */
const SLICE_PROBE_SERVICE = 'lab-slice-probe';

/**
 * Waits until kube-controller-manager writes an EndpointSlice listing every node's demo pod for
 * a fresh ClusterIP Service, then deletes that Service. kube-controller-manager's watches back off
 * for up to about a minute after a kube-apiserver restart (the soak saw slices 41 s late, and in CI
 * a test file after the watch-expiry test got an empty slice for 20 s), so a lab that starts after another
 * test restarted the shared API server waits here, once, instead of inside its first test.
 */
export async function waitForEndpointSlicesCurrent(
  cp: ControlPlane,
  nodes: readonly LabNode[],
  timeoutMs = 90_000,
): Promise<void> {
  const probe = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: SLICE_PROBE_SERVICE, namespace: DEMO_NAMESPACE },
    spec: {
      type: 'ClusterIP',
      selector: { ...DEMO_APP_LABEL },
      ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    },
  };
  const want = nodes.map((n) => n.dataIp).sort();
  await applyJson(cp, [probe]);
  try {
    await waitFor(
      `kube-controller-manager to list the demo pods of ${want.join(', ')} in an EndpointSlice of Service ${DEMO_NAMESPACE}/${SLICE_PROBE_SERVICE}`,
      async () => {
        const got = await readyEndpointAddresses(cp, DEMO_NAMESPACE, SLICE_PROBE_SERVICE);
        return got.filter((a) => !a.includes(':')).join() === want.join()
          ? { done: true, value: undefined }
          : { done: false, observed: got };
      },
      { timeoutMs, intervalMs: 250 },
    );
  } finally {
    await cp.kubectl([
      '-n',
      DEMO_NAMESPACE,
      'delete',
      'service',
      SLICE_PROBE_SERVICE,
      '--ignore-not-found',
      '--wait=false',
    ]);
  }
}

/** Waits for a Service's first ingress IP (status.loadBalancer.ingress). */
export async function waitForIngress(
  cp: ControlPlane,
  namespace: string,
  service: string,
  timeoutMs = 30_000,
): Promise<string[]> {
  return waitFor(
    `Service ${namespace}/${service} to get status.loadBalancer.ingress`,
    async () => {
      const out = await cp.kubectlOk(['-n', namespace, 'get', 'service', service, '-o', 'json']);
      const svc = JSON.parse(out) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
      const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
      return ips.length > 0
        ? { done: true, value: ips }
        : { done: false, observed: svc.status ?? 'no status' };
    },
    { timeoutMs, intervalMs: 250 },
  );
}
