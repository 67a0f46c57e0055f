import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { INSTALL_NAMESPACE } from './cluster-setup.js';
import { serviceAccountKubeconfig } from './credentials.js';
import { repoRoot } from './paths.js';
import {
  forgetProcess,
  isRunning,
  readState,
  signalProcess,
  startProcess,
  stopProcess,
  tailFile,
  type ProcessRecord,
} from './processes.js';
import { labNode } from './topology.js';

/** Entry points of the components (the component owners build them with `pnpm build`). */
export const CONTROLLER_MAIN = join(repoRoot, 'packages', 'controller', 'dist', 'main.js');
export const SPEAKER_MAIN = join(repoRoot, 'packages', 'speaker', 'dist', 'main.js');
export const OPERATOR_MAIN = join(repoRoot, 'packages', 'operator', 'dist', 'main.js');
export const SPEAKER_METRICS_PORT = 7472;
/** Interfaces a lab speaker must ignore: loopback, the management link and the VIP holder. */
export const LAB_INTERFACE_EXCLUDE = '^lo$,^mgmt.*,^kube-ipvs.*';

export type StartResult = { ok: true; value: ProcessRecord } | { ok: false; error: string };

export const controllerName = 'controller';
export const operatorName = 'operator';
export const speakerName = (node: string): string => `speaker-${node}`;

export function logFile(dir: string, name: string): string {
  return join(dir, 'logs', `${name}.log`);
}

/** A TCP port nobody listens on right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

export interface ComponentOptions {
  /** Extra environment (e.g. MEMBERSHIP_LEASE_MS) merged over the lab's. */
  readonly env?: Record<string, string>;
  readonly logLevel?: string;
}

/**
 * Starts the controller on the host as ServiceAccount metallb-system/controller. Returns an
 * error value (nothing started) when `packages/controller/dist/main.js` is not built.
 */
export async function startController(
  cp: ControlPlane,
  dir: string,
  o: ComponentOptions = {},
): Promise<StartResult> {
  if (!existsSync(CONTROLLER_MAIN))
    return {
      ok: false,
      error: `${CONTROLLER_MAIN} is missing: build it (pnpm --filter @metallb-ts/controller... build)`,
    };
  const kubeconfig = await serviceAccountKubeconfig(cp, INSTALL_NAMESPACE, 'controller', cp.server.local);
  const port = await freePort();
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    METALLB_NAMESPACE: INSTALL_NAMESPACE,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(port),
    LOG_LEVEL: o.logLevel ?? 'debug',
    ...o.env,
  };
  const rec = startProcess(
    dir,
    controllerName,
    [process.execPath, CONTROLLER_MAIN],
    logFile(dir, controllerName),
    { env, cwd: repoRoot },
  );
  return { ok: true, value: rec };
}

/**
 * Starts the operator on the host as ServiceAccount metallb-system/operator (its RBAC must be
 * applied first). `o.env` sets e.g. METRICS_PORT, CONTROLLER_IMAGE, SPEAKER_IMAGE.
 */
export async function startOperator(
  cp: ControlPlane,
  dir: string,
  o: ComponentOptions = {},
): Promise<StartResult> {
  if (!existsSync(OPERATOR_MAIN))
    return {
      ok: false,
      error: `${OPERATOR_MAIN} is missing: build it (pnpm --filter @metallb-ts/operator... build)`,
    };
  const kubeconfig = await serviceAccountKubeconfig(cp, INSTALL_NAMESPACE, 'operator', cp.server.local);
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    METALLB_NAMESPACE: INSTALL_NAMESPACE,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    WEBHOOK_PORT: String(await freePort()),
    POD_NAME: `${operatorName}-${process.pid}`,
    LOG_LEVEL: o.logLevel ?? 'debug',
    ...o.env,
  };
  const rec = startProcess(dir, operatorName, [process.execPath, OPERATOR_MAIN], logFile(dir, operatorName), {
    env,
    cwd: repoRoot,
  });
  return { ok: true, value: rec };
}

/**
 * Starts the speaker of `node` inside its namespace (`ip netns exec`) as ServiceAccount
 * metallb-system/speaker, talking to the API server over the management bridge.
 */
export async function startSpeaker(
  cp: ControlPlane,
  dir: string,
  node: string,
  o: ComponentOptions = {},
): Promise<StartResult> {
  if (!existsSync(SPEAKER_MAIN))
    return {
      ok: false,
      error: `${SPEAKER_MAIN} is missing: build it (pnpm --filter @metallb-ts/speaker... build)`,
    };
  const n = labNode(node);
  const kubeconfig = await serviceAccountKubeconfig(cp, INSTALL_NAMESPACE, 'speaker', cp.server.lab);
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    METALLB_NAMESPACE: INSTALL_NAMESPACE,
    NODE_NAME: n.name,
    METRICS_HOST: n.mgmtIp,
    METRICS_PORT: String(SPEAKER_METRICS_PORT),
    METALLB_INTERFACE_EXCLUDE: LAB_INTERFACE_EXCLUDE,
    LOG_LEVEL: o.logLevel ?? 'debug',
    ...o.env,
  };
  // `ip netns exec` execs the program, so the recorded PID is the speaker's own.
  const rec = startProcess(
    dir,
    speakerName(node),
    ['ip', 'netns', 'exec', n.name, process.execPath, SPEAKER_MAIN],
    logFile(dir, speakerName(node)),
    {
      env,
      cwd: repoRoot,
    },
  );
  return { ok: true, value: rec };
}

export function componentRecord(dir: string, name: string): ProcessRecord | undefined {
  return readState(dir).processes[name];
}

export function componentRunning(dir: string, name: string): boolean {
  const rec = componentRecord(dir, name);
  return rec !== undefined && isRunning(rec);
}

/**
 * Signals a speaker: SIGKILL/SIGTERM end it (and it is forgotten once gone), SIGSTOP/SIGCONT
 * freeze and thaw it. Returns false when it was not running.
 */
export async function killSpeaker(
  dir: string,
  node: string,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<boolean> {
  const rec = componentRecord(dir, speakerName(node));
  if (!rec) return false;
  if (signal === 'SIGKILL' || signal === 'SIGTERM') {
    if (!isRunning(rec)) return false;
    // A frozen process must be thawed to act on SIGTERM.
    signalProcess(rec, 'SIGCONT');
    await stopProcess(rec, signal, 10_000);
    forgetProcess(dir, speakerName(node));
    return true;
  }
  return signalProcess(rec, signal);
}

export async function restartSpeaker(
  cp: ControlPlane,
  dir: string,
  node: string,
  o: ComponentOptions = {},
): Promise<StartResult> {
  await killSpeaker(dir, node, 'SIGTERM');
  return startSpeaker(cp, dir, node, o);
}

export async function stopComponent(
  dir: string,
  name: string,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  const rec = componentRecord(dir, name);
  if (!rec) return;
  signalProcess(rec, 'SIGCONT');
  await stopProcess(rec, signal, 10_000);
  forgetProcess(dir, name);
}

/** The last lines of a component's log (controller, speaker-node-1, lab-proxy, backend-node-1, kube-apiserver...). */
export function logs(dir: string, name: string, lines = 60): string {
  const direct = logFile(dir, name);
  return tailFile(direct, lines);
}
