// Taking the kubelet lab's nodes apart, whatever state they are in (also after a crash): every
// process of the node namespaces and of the lab's cgroups, every mount under the lab's folders and
// containerd's state, the cgroups, the state folders and the machine-wide files.
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { netnsPids } from '../netns.js';
import { run, runOk } from '../run.js';
import { LAB_NODES, type LabNode } from '../topology.js';
import { sleep } from '../wait-for.js';
import { restoreHost } from './host-state.js';
import { CGROUP_PREFIX, nodePlans } from './node-config.js';

/** Where every node's containerd keeps its state (sockets, container mounts, pod namespaces). */
export const STATE_ROOT = '/run/metallb-ts-lab';

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
