// The kubelet lab's nodes: in each node namespace a containerd, a kubelet and a kube-proxy, each
// a recorded process of the lab (so `down` and a crashed run's sweep find them), and the
// teardown that removes every container, mount, cgroup and file they made.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { containerdHostsToml } from '../registry-client.js';
import { join } from 'node:path';
import { SERVICE_CIDRS, type ControlPlane } from '../control-plane.js';
import { writeKubeconfig } from '../kubeconfig.js';
import { nsSysctl } from '../netns.js';
import { issueClientCert } from '../pki.js';
import { processStartTicks, readState, startProcess, stopProcess, type ProcessRecord } from '../processes.js';
import { run, runOk } from '../run.js';
import { LAB_NODES, MGMT_IF, type LabNode } from '../topology.js';
import { waitFor } from '../wait-for.js';
import { containerdBinDir } from './binaries.js';
import {
  nodePlans,
  cniConfig,
  containerdConfig,
  inNodeNetwork,
  kubeletArgs,
  kubeletConfig,
  kubeProxyConfig,
  type NodePlan,
} from './node-config.js';
import { recordHostOnce } from './host-state.js';
import { cgroupHierarchies } from './node-teardown.js';

export interface StartNodesOptions {
  readonly dir: string;
  readonly cp: ControlPlane;
  /** `host:port` of the lab registry. */
  readonly registry: string;
  /** The pod sandbox image, pulled from the registry. */
  readonly sandboxImage: string;
  readonly progress?: (line: string) => void;
}

function createCgroups(plan: NodePlan): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, plan.cgroupRoot);
    mkdirSync(dir, { recursive: true });
    // A new cpuset cgroup starts with no CPUs and no memory nodes: give it its parent's.
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(h, f)) && readFileSync(join(dir, f), 'utf8').trim() === '')
        writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8').trim());
    }
  }
}

async function prepareNode(plan: NodePlan, o: StartNodesOptions): Promise<void> {
  const f = plan.files;
  for (const d of [
    plan.dir,
    f.cniConfDir,
    f.cniDataDir,
    f.kubeletRoot,
    f.kubeletCerts,
    f.podLogs,
    plan.stateDir,
  ])
    mkdirSync(d, { recursive: true });
  const registryDir = join(f.registryHosts, o.registry);
  mkdirSync(registryDir, { recursive: true });
  writeFileSync(join(registryDir, 'hosts.toml'), containerdHostsToml(o.registry));
  writeFileSync(f.containerdConfig, containerdConfig(plan, o.sandboxImage));
  writeFileSync(join(f.cniConfDir, '10-metallb-ts-lab.conflist'), cniConfig(plan));
  writeFileSync(f.kubeletConfig, kubeletConfig(plan, o.cp.caFile));
  writeFileSync(f.kubeProxyConfig, kubeProxyConfig(plan));
  const pkiDir = join(o.dir, 'pki');
  const ca = o.cp.pki.ca;
  // The Node authorizer knows a kubelet by this name and group only.
  const kubelet = await issueClientCert(
    pkiDir,
    `kubelet-${plan.node.name}`,
    ca,
    `system:node:${plan.node.name}`,
    ['system:nodes'],
  );
  writeKubeconfig(f.kubeletKubeconfig, o.cp.server.lab, ca.cert, `system:node:${plan.node.name}`, {
    kind: 'cert',
    certFile: kubelet.cert,
    keyFile: kubelet.key,
  });
  // Bound by the bootstrap policy to system:node-proxier.
  const proxy = await issueClientCert(pkiDir, 'kube-proxy', ca, 'system:kube-proxy');
  writeKubeconfig(f.kubeProxyKubeconfig, o.cp.server.lab, ca.cert, 'system:kube-proxy', {
    kind: 'cert',
    certFile: proxy.cert,
    keyFile: proxy.key,
  });
  // Pods of this node route through it; the host and the other nodes reach them by proxy ARP.
  await nsSysctl(plan.node.name, {
    'net.ipv4.ip_forward': '1',
    [`net.ipv4.conf.${MGMT_IF}.proxy_arp`]: '1',
  });
  // Host-network pods (the speaker) reach ClusterIPs through kube-proxy's OUTPUT rules, which
  // apply only once a route exists; the nodes have no default route (nothing leaves the lab).
  await run(['ip', '-n', plan.node.name, 'route', 'replace', SERVICE_CIDRS[0], 'dev', MGMT_IF]);
  createCgroups(plan);
}

function logOf(dir: string, name: string): string {
  return join(dir, 'logs', `${name}.log`);
}

function startContainerd(plan: NodePlan, dir: string): ProcessRecord {
  const bin = containerdBinDir();
  // A killed containerd leaves its socket behind; waiting for the socket must mean the new one.
  rmSync(plan.socket, { force: true });
  const name = `containerd-${plan.node.name}`;
  // containerd finds its shim on PATH.
  return startProcess(
    dir,
    name,
    inNodeNetwork(plan.node.name, [join(bin, 'containerd'), '--config', plan.files.containerdConfig]),
    logOf(dir, name),
    { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` } },
  );
}

async function startNode(plan: NodePlan, o: StartNodesOptions): Promise<void> {
  const progress = o.progress ?? (() => undefined);
  const containerd = startContainerd(plan, o.dir);
  await waitFor(
    `containerd of ${plan.node.name} to open ${plan.socket} (log: ${containerd.log})`,
    () => {
      if (processStartTicks(containerd.pid) === undefined)
        throw new Error(`containerd of ${plan.node.name} exited; see ${containerd.log}`);
      return existsSync(plan.socket)
        ? { done: true, value: undefined }
        : { done: false, observed: 'no socket' };
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const kubeletName = `kubelet-${plan.node.name}`;
  startProcess(
    o.dir,
    kubeletName,
    inNodeNetwork(plan.node.name, kubeletArgs(plan, o.cp.binDir)),
    logOf(o.dir, kubeletName),
  );
  const proxyName = `kube-proxy-${plan.node.name}`;
  startProcess(
    o.dir,
    proxyName,
    inNodeNetwork(plan.node.name, [
      join(o.cp.binDir, 'kube-proxy'),
      `--config=${plan.files.kubeProxyConfig}`,
      '--v=1',
    ]),
    logOf(o.dir, proxyName),
  );
  progress(
    `node ${plan.node.name}: containerd, kubelet, kube-proxy (pods ${plan.podCidr}, cgroup /${plan.cgroupRoot})`,
  );
}

interface NodeStatus {
  readonly name: string;
  readonly ready: string;
  readonly message: string;
}

async function nodeStatuses(cp: ControlPlane): Promise<NodeStatus[]> {
  const out = await cp.kubectlOk(['get', 'nodes', '-o', 'json']);
  const list = JSON.parse(out) as {
    items: {
      metadata: { name: string };
      status?: { conditions?: { type: string; status: string; message?: string }[] };
    }[];
  };
  return list.items.map((n) => {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    return { name: n.metadata.name, ready: ready?.status ?? 'Unknown', message: ready?.message ?? '' };
  });
}

/** Waits until every lab node is registered by its kubelet and Ready. */
export async function waitNodesReady(cp: ControlPlane, dir: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'every lab node Ready (registered by its kubelet)',
    async () => {
      for (const [name, rec] of Object.entries(readState(dir).processes)) {
        if (
          (name.startsWith('kubelet-') || name.startsWith('containerd-')) &&
          processStartTicks(rec.pid) === undefined
        )
          throw new Error(`${name} exited; see ${rec.log}:\n${tail(rec.log)}`);
      }
      const statuses = await nodeStatuses(cp);
      const ready = LAB_NODES.every((n) => statuses.some((s) => s.name === n.name && s.ready === 'True'));
      return ready ? { done: true, value: undefined } : { done: false, observed: statuses };
    },
    { timeoutMs, intervalMs: 500 },
  );
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts every node: records the machine's settings first (the kubelet changes some), then
 * containerd, the kubelet and kube-proxy in each node namespace, and waits until all are Ready.
 */
export async function startNodes(o: StartNodesOptions): Promise<NodePlan[]> {
  const progress = o.progress ?? (() => undefined);
  const record = recordHostOnce();
  progress(
    `nodes: machine settings recorded (${Object.entries(record.sysctls)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}); down restores them`,
  );
  const plans = nodePlans(o.dir);
  // One after the other: openssl keeps the CA's serial number in one file.
  for (const p of plans) await prepareNode(p, o);
  await Promise.all(plans.map((p) => startNode(p, o)));
  await waitNodesReady(o.cp, o.dir);
  progress('nodes: node-1..3 registered by their kubelets and Ready');
  return plans;
}

/**
 * Brings a killed node back as a rebooted machine would: its data link up, then containerd, the
 * kubelet and kube-proxy again (folders, cgroups and certificates are still there).
 */
export async function restartNode(o: StartNodesOptions, node: LabNode): Promise<void> {
  const plan = nodePlans(o.dir).find((p) => p.node.name === node.name);
  if (!plan) throw new Error(`no lab node ${node.name}`);
  await runOk(['ip', '-n', node.name, 'link', 'set', 'data0', 'up']);
  await startNode(plan, o);
}

/** Stops one recorded process of the nodes by name (e.g. `kubelet-node-2`). */
export async function stopNodeProcess(dir: string, name: string): Promise<void> {
  const rec = readState(dir).processes[name];
  if (rec) await stopProcess(rec, 'SIGTERM', 5_000);
}
