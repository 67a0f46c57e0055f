// What one node of the kubelet lab is made of, as data: its folders, its pod range, its cgroup
// root and the configuration files of its containerd, CNI, kubelet and kube-proxy. Pure, so the
// files are checked without starting anything; `nodes.ts` writes them and starts the processes.
import { join } from 'node:path';
import { LAB_NODES, type LabNode } from '../topology.js';

/** Pods of all nodes: the /26 after the management /26, one /28 per node (13 pods each). */
export const POD_CIDR = '198.51.100.64/26';
/** The CNI network's name; libcni names its result cache files after it. */
export const CNI_NETWORK = 'metallb-ts-lab';
/** The one machine-wide folder containerd's shims use (their socket root cannot be moved). */
export const CONTAINERD_MACHINE_DIR = '/run/containerd';
/** Every node's cgroup root starts so in each hierarchy: the teardown finds them by it. */
export const CGROUP_PREFIX = 'metallb-ts-lab-';

export interface NodePlan {
  readonly node: LabNode;
  /** `node-1` → 1. */
  readonly index: number;
  readonly podCidr: string;
  /** The address the bridge `cni0` holds: the pods' gateway. */
  readonly podGateway: string;
  /** Everything of this node that lives on disk. */
  readonly dir: string;
  /**
   * containerd's state (sockets, mounts of running containers, pod network namespaces). Under
   * /run because a unix socket path is limited to 107 bytes and the shim appends to it.
   */
  readonly stateDir: string;
  readonly socket: string;
  /** Relative cgroup under every hierarchy: `kubepods` and each container live below it. */
  readonly cgroupRoot: string;
  readonly files: {
    readonly containerdConfig: string;
    readonly cniConfDir: string;
    readonly cniDataDir: string;
    readonly registryHosts: string;
    readonly kubeletConfig: string;
    readonly kubeletKubeconfig: string;
    readonly kubeletRoot: string;
    readonly kubeletCerts: string;
    readonly podLogs: string;
    readonly kubeProxyConfig: string;
    readonly kubeProxyKubeconfig: string;
  };
}

/** The address `n` places after the network address of an IPv4 CIDR. */
export function ipv4Add(cidr: string, n: number): string {
  const [base] = cidr.split('/') as [string];
  const value = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) + n;
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The plan of lab node `node` (1-based `index`), its files under `labDir/nodes/<name>`. */
export function nodePlan(labDir: string, node: LabNode, index: number): NodePlan {
  if (!Number.isInteger(index) || index < 1 || index > 4)
    throw new Error(`node index ${index} of ${node.name}: the pod range has room for nodes 1-4`);
  const podCidr = `${ipv4Add(POD_CIDR, (index - 1) * 16)}/28`;
  const dir = join(labDir, 'nodes', node.name);
  const stateDir = join('/run/metallb-ts-lab', node.name);
  return {
    node,
    index,
    podCidr,
    podGateway: ipv4Add(podCidr, 1),
    dir,
    stateDir,
    socket: join(stateDir, 'containerd.sock'),
    cgroupRoot: `${CGROUP_PREFIX}${node.name}`,
    files: {
      containerdConfig: join(dir, 'containerd.toml'),
      cniConfDir: join(dir, 'cni', 'net.d'),
      cniDataDir: join(dir, 'cni', 'ipam'),
      registryHosts: join(dir, 'registry-hosts'),
      kubeletConfig: join(dir, 'kubelet.yaml'),
      kubeletKubeconfig: join(dir, 'kubelet.kubeconfig'),
      kubeletRoot: join(dir, 'kubelet'),
      kubeletCerts: join(dir, 'kubelet-pki'),
      podLogs: join(dir, 'pod-logs'),
      kubeProxyConfig: join(dir, 'kube-proxy.yaml'),
      kubeProxyKubeconfig: join(dir, 'kube-proxy.kubeconfig'),
    },
  };
}

const toml = (s: string): string => JSON.stringify(s);

/**
 * containerd's configuration. Everything it writes goes under the node's folders; the sandbox
 * (pause) image comes from the lab registry; pod network namespaces stay under its state folder
 * (not /run/netns) so `down` finds every one.
 */
export function containerdConfig(plan: NodePlan, sandboxImage: string): string {
  const cri = "plugins.'io.containerd.cri.v1.runtime'";
  const images = "plugins.'io.containerd.cri.v1.images'";
  return [
    'version = 3',
    `root = ${toml(join(plan.dir, 'containerd'))}`,
    `state = ${toml(plan.stateDir)}`,
    // NRI's socket and the opt folder are machine-wide paths; the lab needs neither.
    `disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]`,
    '',
    '[grpc]',
    `  address = ${toml(plan.socket)}`,
    '',
    '[debug]',
    '  level = "warn"',
    '',
    `[${images}]`,
    '  snapshotter = "overlayfs"',
    `[${images}.pinned_images]`,
    `  sandbox = ${toml(sandboxImage)}`,
    `[${images}.registry]`,
    `  config_path = ${toml(plan.files.registryHosts)}`,
    '',
    `[${cri}]`,
    // This machine (and many CI sandboxes) withholds CAP_SYS_RESOURCE: a negative
    // oom_score_adj cannot be written, and runc fails every sandbox that asks for one.
    '  restrict_oom_score_adj = true',
    '  netns_mounts_under_state_dir = true',
    `[${cri}.containerd]`,
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  BinaryName = "/usr/sbin/runc"',
    `  Root = ${toml(join(plan.stateDir, 'runc'))}`,
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    '  bin_dirs = ["/usr/lib/cni"]',
    `  conf_dir = ${toml(plan.files.cniConfDir)}`,
    '',
  ].join('\n');
}

/**
 * The pod network of one node: a bridge `cni0` in the node's namespace holding the gateway of the
 * node's /28. Other nodes and the host reach these pods on the management link by proxy ARP
 * (topology.ts), so nothing is routed in the machine's root namespace.
 */
export function cniConfig(plan: NodePlan): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: CNI_NETWORK,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: plan.files.cniDataDir,
            ranges: [[{ subnet: plan.podCidr, gateway: plan.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/** The kubelet's configuration (KubeletConfiguration v1beta1). */
export function kubeletConfig(plan: NodePlan, caFile: string): string {
  const lines = [
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'kind: KubeletConfiguration',
    // This machine has cgroup v1 (hybrid); the kubelet refuses it unless told otherwise.
    'failCgroupV1: false',
    'cgroupDriver: cgroupfs',
    `cgroupRoot: /${plan.cgroupRoot}`,
    'cgroupsPerQOS: true',
    'enforceNodeAllocatable: [pods]',
    'failSwapOn: false',
    `address: ${plan.node.mgmtIp}`,
    'port: 10250',
    'healthzBindAddress: 127.0.0.1',
    'healthzPort: 10248',
    'readOnlyPort: 0',
    `containerRuntimeEndpoint: unix://${plan.socket}`,
    `podLogsDir: ${plan.files.podLogs}`,
    'authentication:',
    '  anonymous: { enabled: false }',
    '  webhook: { enabled: true }',
    `  x509: { clientCAFile: ${caFile} }`,
    'authorization: { mode: Webhook }',
    // The lab shares one disk with the machine: evict only when it is really full.
    'evictionHard: { memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }',
    'imageGCHighThresholdPercent: 100',
    'imageGCLowThresholdPercent: 99',
    'serializeImagePulls: false',
    'nodeStatusUpdateFrequency: 4s',
    'makeIPTablesUtilChains: false',
    'localStorageCapacityIsolation: false',
    // Pods see the node's DNS settings: the lab runs no cluster DNS and our components need none.
    'resolvConf: /etc/resolv.conf',
    'shutdownGracePeriod: 0s',
    '',
  ];
  return lines.join('\n');
}

/**
 * kube-proxy in iptables mode inside the node's namespace. Conntrack limits are machine-wide
 * settings, so kube-proxy is told to leave them alone (0 = do not touch).
 */
export function kubeProxyConfig(plan: NodePlan): string {
  return [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    'mode: iptables',
    `hostnameOverride: ${plan.node.name}`,
    `bindAddress: ${plan.node.mgmtIp}`,
    `clusterCIDR: ${POD_CIDR}`,
    'detectLocalMode: ClusterCIDR',
    'healthzBindAddress: 127.0.0.1:10256',
    'metricsBindAddress: 127.0.0.1:10249',
    `clientConnection: { kubeconfig: ${plan.files.kubeProxyKubeconfig} }`,
    'conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }',
    'iptables: { syncPeriod: 10s, minSyncPeriod: 0s }',
    '',
  ].join('\n');
}

/** The kubelet's flags beside its configuration file. */
export function kubeletArgs(plan: NodePlan, binDir: string): string[] {
  return [
    join(binDir, 'kubelet'),
    `--config=${plan.files.kubeletConfig}`,
    `--kubeconfig=${plan.files.kubeletKubeconfig}`,
    `--hostname-override=${plan.node.name}`,
    `--node-ip=${plan.node.mgmtIp}`,
    `--root-dir=${plan.files.kubeletRoot}`,
    `--cert-dir=${plan.files.kubeletCerts}`,
    '--v=1',
  ];
}

/** argv that runs `argv` in the node's network namespace only (see `inNodeNetwork`). */
export function inNodeNetwork(nodeName: string, argv: readonly string[]): string[] {
  // Not `ip netns exec`: it also remounts /sys for the namespace, which hides the cgroup
  // hierarchies the kubelet and runc must see. nsenter switches the network namespace alone.
  return ['nsenter', `--net=/run/netns/${nodeName}`, '--', ...argv];
}

/** The plans of all lab nodes for lab folder `dir`. */
export function nodePlans(dir: string): NodePlan[] {
  return LAB_NODES.map((n, i) => nodePlan(dir, n, i + 1));
}
