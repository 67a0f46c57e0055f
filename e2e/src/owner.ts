import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { APISERVER_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT, SCHEDULER_PORT } from './control-plane.js';
import { defaultLabDir, ownerFile } from './paths.js';
import { destroyNodes } from './node-mode/node-teardown.js';
import { PROMETHEUS_PORT } from './prometheus.js';
import { isRunning, processStartTicks, readState, stopAllRecorded, stopProcess } from './processes.js';
import { run } from './run.js';
import { destroyTopology } from './topology.js';
import { sleep } from './wait-for.js';

/**
 * Who holds the lab on this machine. The demo lab and an e2e run use the same namespace names,
 * bridges and ports, so one owner at a time: `e2e` = a jest run (alive while its process is),
 * `lab` = `lab up` (alive while any process it started still runs).
 */
export interface LabOwner {
  readonly kind: 'e2e' | 'lab';
  readonly pid: number;
  readonly startTicks: number;
  readonly dir: string;
}

/** Fixed ports of the lab's control plane (kube-controller-manager's and kube-scheduler's health ports included) and its Prometheus. */
export const LAB_PORTS = [
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  APISERVER_PORT,
  16457,
  SCHEDULER_PORT,
  PROMETHEUS_PORT,
] as const;

export function readOwner(): LabOwner | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile, 'utf8')) as LabOwner;
  } catch {
    return undefined;
  }
}

export function ownerAlive(owner: LabOwner): boolean {
  if (isRunning(owner)) return true;
  if (owner.kind !== 'lab') return false;
  return Object.values(readState(owner.dir).processes).some((p) => isRunning(p));
}

export interface ClaimOptions {
  readonly waitMs?: number;
  readonly progress?: (line: string) => void;
}

/**
 * Becomes the owner of the lab: waits (bounded) while a live owner holds it, then removes the
 * leftovers of a dead one. `pid` is the process whose life marks ours (default: this one).
 */
export async function claimLab(
  kind: LabOwner['kind'],
  dir: string,
  options: ClaimOptions = {},
  pid = process.pid,
): Promise<void> {
  const progress = options.progress ?? (() => undefined);
  const waitMs = options.waitMs ?? Number(process.env.METALLB_TS_LAB_WAIT_MS ?? 15 * 60_000);
  const deadline = Date.now() + waitMs;
  let announced = false;
  for (;;) {
    const owner = readOwner();
    if (!owner || owner.dir === dir || !ownerAlive(owner)) break;
    if (Date.now() >= deadline) {
      throw new Error(
        `the lab is held by ${owner.kind} (pid ${owner.pid}, dir ${owner.dir}) for more than ${waitMs} ms; ` +
          (owner.kind === 'lab'
            ? 'run `bash e2e/scripts/lab.sh down` first'
            : 'another e2e run is still going'),
      );
    }
    if (!announced) {
      progress(`lab: held by ${owner.kind} (pid ${owner.pid}, dir ${owner.dir}); waiting up to ${waitMs} ms`);
      announced = true;
    }
    await sleep(2_000);
  }
  await sweepLeftovers(progress);
  const me: LabOwner = { kind, pid, startTicks: processStartTicks(pid) ?? -1, dir };
  writeFileSync(ownerFile, JSON.stringify(me, null, 2));
}

/** Gives the lab up (only if we hold it). */
export function releaseLab(dir: string): void {
  const owner = readOwner();
  if (owner && owner.dir === dir) rmSync(ownerFile, { force: true });
}

/** PIDs listening on the lab's fixed TCP ports (from `ss`). */
export async function pidsOnLabPorts(): Promise<number[]> {
  const r = await run(['ss', '-Hltnp']);
  const pids = new Set<number>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    if (!(LAB_PORTS as readonly number[]).includes(port)) continue;
    for (const m of line.matchAll(/pid=(\d+)/g)) pids.add(Number(m[1]));
  }
  return [...pids];
}

/**
 * Removes what an earlier lab or e2e run left behind: its recorded processes, the network
 * topology, and processes still listening on the lab's ports. Safe when there is nothing.
 */
export async function sweepLeftovers(progress: (line: string) => void = () => undefined): Promise<void> {
  const owner = readOwner();
  if (owner && existsSync(owner.dir)) {
    const stopped = await stopAllRecorded(owner.dir);
    if (stopped.length > 0)
      progress(`lab: stopped leftovers of ${owner.kind} run in ${owner.dir}: ${stopped.join(', ')}`);
  }
  // Containers live in their own network namespaces and the nodes' cgroups: they go first, with
  // the mounts, cgroups and machine settings of the kubelet lab (nothing to do after a process lab).
  const done = await destroyNodes([...new Set([...(owner ? [owner.dir] : []), defaultLabDir()])]);
  if (done.length > 0) progress(`lab: nodes removed: ${done.join('; ')}`);
  await destroyTopology();
  for (const pid of await pidsOnLabPorts()) {
    progress(`lab: stopping pid ${pid} still listening on a lab port`);
    const ticks = processStartTicks(pid);
    if (ticks !== undefined) await stopProcess({ pid, startTicks: ticks });
  }
  if (owner) rmSync(ownerFile, { force: true });
}
