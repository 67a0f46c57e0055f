// The kubelet lab's nodes: in each node namespace a containerd, a kubelet and a kube-proxy, each
// a recorded process of the lab (so `down` and a crashed run's sweep find them), and the
// teardown that removes every container, mount, cgroup and file they made.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_CIDRS, type ControlPlane } from '../control-plane.js';
import { writeKubeconfig } from '../kubeconfig.js';
import { netnsPids, nsSysctl } from '../netns.js';
import { issueClientCert } from '../pki.js';
import { processStartTicks, readState, startProcess, stopProcess, type ProcessRecord } from '../processes.js';
import { run, runOk } from '../run.js';
import { LAB_NODES, MGMT_IF, type LabNode } from '../topology.js';
import { sleep, waitFor } from '../wait-for.js';
import { containerdBinDir } from './binaries.js';
import {
  cniConfig,
  containerdConfig,
  inNodeNetwork,
  kubeletArgs,
  kubeletConfig,
  kubeProxyConfig,
  nodePlan,
  registryHostsToml,
  type NodePlan,
} from './node-config.js';
import { recordHostOnce, restoreHost } from './host-state.js';

/** Where every node's containerd keeps its state (sockets, container mounts, pod namespaces). */
export const STATE_ROOT = '/run/metallb-ts-lab';
const CGROUP_PREFIX = 'metallb-ts-lab-';

export interface StartNodesOptions {
  readonly dir: string;
  readonly cp: ControlPlane;
  /** `host:port` of the lab registry. */
  readonly registry: string;
  /** The pod sandbox image, pulled from the registry. */
  readonly sandboxImage: string;
  readonly progress?: (line: string) => void;
}

/** The plans of all lab nodes for lab folder `dir`. */
export function nodePlans(dir: string): NodePlan[] {
  return LAB_NODES.map((n, i) => nodePlan(dir, n, i + 1));
}

/** Mount points of every cgroup hierarchy (v1 controllers, the named systemd one, or v2). */
export function cgroupHierarchies(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fstype = right.split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.push(unescapeMount(left.split(' ')[4] ?? ''));
  }
  return out.filter((p) => p !== '');
}

/** Mount points (deepest first) under any of `prefixes`. */
export function mountsUnder(
  prefixes: readonly string[],
  mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'),
): string[] {
  const points = mountinfo
    .split('\n')
    .map((line) => unescapeMount(line.split(' ')[4] ?? ''))
    .filter((p) => p !== '' && prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
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

/** Every cgroup folder of the lab's nodes (deepest first), in every hierarchy. */
function labCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    found.push(dir);
  };
  for (const h of cgroupHierarchies()) {
    if (!existsSync(h)) continue;
    for (const e of readdirSync(h, { withFileTypes: true }))
      if (e.isDirectory() && e.name.startsWith(CGROUP_PREFIX)) walk(join(h, e.name));
  }
  return found.sort((a, b) => b.length - a.length);
}

function cgroupPids(cgroups: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const cg of cgroups) {
    try {
      for (const s of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n'))
        if (s.trim() !== '') pids.add(Number(s));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

async function killAll(describe: () => Promise<number[]>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pids = await describe();
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${what}: processes ${pids.join(', ')} survive SIGKILL`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
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
  writeFileSync(join(registryDir, 'hosts.toml'), registryHostsToml(o.registry));
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
 * A node dies: its kubelet, container runtime, kube-proxy, every container (host-network and pod
 * network alike) are killed at once, and its data link goes down. The Node object stays, as it
 * would for a machine that lost power.
 */
export async function killNode(dir: string, node: LabNode): Promise<void> {
  const plan = nodePlans(dir).find((p) => p.node.name === node.name);
  if (!plan) throw new Error(`no lab node ${node.name}`);
  await runOk(['ip', '-n', node.name, 'link', 'set', 'data0', 'down']);
  const cgroups = labCgroups().filter((c) => c.includes(`/${plan.cgroupRoot}`));
  await killAll(async () => [...(await netnsPids(node.name)), ...cgroupPids(cgroups)], `node ${node.name}`);
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

/**
 * Removes everything the nodes made, whatever state they are in: every process of the node
 * namespaces and of the lab's cgroups, every mount under the lab's folders and containerd's state,
 * the cgroups, the state folders, and the machine-wide files; then restores the kernel settings.
 * `labDirs` are the lab folders that may hold node folders. Returns what it did.
 */
export async function destroyNodes(labDirs: readonly string[]): Promise<string[]> {
  const done: string[] = [];
  const cgroups = labCgroups();
  const pidsOf = async (): Promise<number[]> => [
    ...cgroupPids(cgroups),
    ...(await Promise.all(LAB_NODES.map((n) => netnsPids(n.name)))).flat(),
  ];
  const before = await pidsOf();
  if (before.length > 0) {
    await killAll(pidsOf, 'lab nodes');
    done.push(`killed ${before.length} node and pod processes`);
  }
  const prefixes = [STATE_ROOT, ...labDirs.map((d) => join(d, 'nodes'))];
  for (const point of mountsUnder(prefixes)) {
    const r = await run(['umount', point]);
    if (r.code !== 0) await run(['umount', '-l', point]);
  }
  const left = mountsUnder(prefixes);
  if (left.length > 0) throw new Error(`mounts left under the lab: ${left.join(', ')}`);
  for (const cg of labCgroups()) {
    try {
      rmdirSync(cg);
    } catch (e) {
      throw new Error(`cannot remove cgroup ${cg}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (cgroups.length > 0) done.push(`removed ${cgroups.length} cgroups`);
  if (existsSync(STATE_ROOT)) {
    rmSync(STATE_ROOT, { recursive: true, force: true });
    done.push(`removed ${STATE_ROOT}`);
  }
  for (const d of labDirs) rmSync(join(d, 'nodes'), { recursive: true, force: true });
  done.push(...restoreHost(labDirs));
  return done;
}

/** What of the nodes is still on the machine (empty when `destroyNodes` did its job). */
export function nodeLeftovers(labDirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const cg of labCgroups()) out.push(`cgroup ${cg}`);
  for (const m of mountsUnder([STATE_ROOT, ...labDirs.map((d) => join(d, 'nodes'))])) out.push(`mount ${m}`);
  if (existsSync(STATE_ROOT)) out.push(`folder ${STATE_ROOT}`);
  return out;
}
