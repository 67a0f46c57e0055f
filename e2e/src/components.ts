import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  COMPONENTS,
  CONTROLLER_SETTINGS,
  METRICS_PORT,
  OPERATOR_SETTINGS,
  settingsProcessEnv,
  SPEAKER_SETTINGS,
  type SettingLogLevel,
  type SettingValues,
} from '@metallb-ts/manifests';
import type { ControlPlane } from './control-plane.js';
import { INSTALL_NAMESPACE } from './cluster-setup.js';
import { createSpeakerPod, deleteSpeakerPod, speakerPodName } from './cluster-objects.js';
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
import { waitFor } from './wait-for.js';

/** Entry points of the components (the component owners build them with `pnpm build`). */
export const CONTROLLER_MAIN = join(repoRoot, 'packages', 'controller', 'dist', 'main.js');
export const SPEAKER_MAIN = join(repoRoot, 'packages', 'speaker', 'dist', 'main.js');
export const OPERATOR_MAIN = join(repoRoot, 'packages', 'operator', 'dist', 'main.js');
/** Each speaker serves its metrics on its node's management address, on the usual port. */
export const SPEAKER_METRICS_PORT = METRICS_PORT;
/** Interfaces a lab speaker must ignore: loopback, the management link and the VIP holder. */
export const LAB_INTERFACE_EXCLUDE: readonly RegExp[] = [/^lo$/, /^mgmt.*/, /^kube-ipvs.*/];

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

/** The controller's settings by name (`CONTROLLER_SETTINGS`), e.g. `{ metricsPort: 9000 }`. */
export type ControllerSettings = Partial<SettingValues<(typeof CONTROLLER_SETTINGS)['defs']>>;
/** The speaker's settings by name (`SPEAKER_SETTINGS`), e.g. `{ membershipLeaseMs: 6000 }`. */
export type SpeakerSettings = Partial<SettingValues<(typeof SPEAKER_SETTINGS)['defs']>>;

export interface ComponentOptions {
  /** Controller settings over the lab's. */
  readonly controller?: ControllerSettings;
  /** Settings of every speaker over the lab's. */
  readonly speaker?: SpeakerSettings;
  /** Both components' log level (default debug). */
  readonly logLevel?: SettingLogLevel;
  /** Entry points to run instead of `dist/main.js` (e.g. the bundles of `pnpm bundle`). */
  readonly mains?: { readonly controller?: string; readonly speaker?: string };
  /** Node.js flags before the entry point (e.g. the images' `nodeFlags`). */
  readonly nodeFlags?: { readonly controller?: readonly string[]; readonly speaker?: readonly string[] };
}

/**
 * The controller's process environment: the lab's settings (its namespace, metrics on a port of
 * 127.0.0.1, debug logs), then `o`'s, written by the controller's own settings definition.
 */
export function controllerEnv(
  namespace: string,
  metricsPort: number,
  o: ComponentOptions = {},
): Record<string, string> {
  return settingsProcessEnv(CONTROLLER_SETTINGS, {
    namespace,
    metricsHost: '127.0.0.1',
    metricsPort,
    logLevel: o.logLevel ?? 'debug',
    ...o.controller,
  });
}

/**
 * A speaker's process environment, likewise: its node, metrics and the gossip socket on its
 * management address (so cutting the management link cuts gossip, not the data path).
 */
export function speakerEnv(
  namespace: string,
  node: { name: string; mgmtIp: string },
  o: ComponentOptions = {},
): Record<string, string> {
  return settingsProcessEnv(SPEAKER_SETTINGS, {
    namespace,
    nodeName: node.name,
    metricsHost: node.mgmtIp,
    metricsPort: SPEAKER_METRICS_PORT,
    memberlistBindAddress: node.mgmtIp,
    interfaceExclude: LAB_INTERFACE_EXCLUDE,
    logLevel: o.logLevel ?? 'debug',
    ...o.speaker,
  });
}

/**
 * Starts the controller on the host as ServiceAccount metallb-system/controller. Returns an
 * error value (nothing started) when `packages/controller/dist/main.js` is not built.
 *
 * `name` starts another replica (its process name, log and Lease identity; metrics on a port of
 * its own unless `o.controller.metricsPort` says otherwise), e.g. `controller-b` beside
 * `controller`: only the Lease holder works.
 */
export async function startController(
  cp: ControlPlane,
  dir: string,
  o: ComponentOptions = {},
  name: string = controllerName,
): Promise<StartResult> {
  const main = o.mains?.controller ?? CONTROLLER_MAIN;
  if (!existsSync(main))
    return {
      ok: false,
      error: `${main} is missing: build it (pnpm --filter @metallb-ts/controller... build, or pnpm bundle)`,
    };
  const kubeconfig = await serviceAccountKubeconfig(
    cp,
    INSTALL_NAMESPACE,
    COMPONENTS.controller.serviceAccount,
    cp.server.local,
  );
  const port = o.controller?.metricsPort ?? (await freePort());
  // A named replica is its own Lease identity; the default keeps host name and PID.
  const settings = name === controllerName ? o : { ...o, controller: { podName: name, ...o.controller } };
  const env = { ...process.env, KUBECONFIG: kubeconfig, ...controllerEnv(INSTALL_NAMESPACE, port, settings) };
  const argv = [process.execPath, ...(o.nodeFlags?.controller ?? []), main];
  const rec = startProcess(dir, name, argv, logFile(dir, name), {
    env,
    cwd: repoRoot,
  });
  return { ok: true, value: rec };
}

/** The operator's settings by name (`OPERATOR_SETTINGS`), e.g. `{ speakerImage: 'x:1' }`. */
export type OperatorSettings = Partial<SettingValues<(typeof OPERATOR_SETTINGS)['defs']>>;

/**
 * Starts the operator on the host as ServiceAccount metallb-system/operator (apply its RBAC
 * first), metrics on a free port of 127.0.0.1 and the webhook on a free port (it listens on every
 * address), then `settings` over those. A second
 * replica gets its own `name` (process record, log file and Lease identity).
 */
export async function startOperator(
  cp: ControlPlane,
  dir: string,
  settings: OperatorSettings = {},
  name: string = operatorName,
): Promise<StartResult> {
  if (!existsSync(OPERATOR_MAIN))
    return {
      ok: false,
      error: `${OPERATOR_MAIN} is missing: build it (pnpm --filter @metallb-ts/operator... build)`,
    };
  const kubeconfig = await serviceAccountKubeconfig(
    cp,
    INSTALL_NAMESPACE,
    COMPONENTS.operator.serviceAccount,
    cp.server.local,
  );
  const processEnv = settingsProcessEnv(OPERATOR_SETTINGS, {
    namespace: INSTALL_NAMESPACE,
    metricsHost: '127.0.0.1',
    metricsPort: await freePort(),
    webhookPort: await freePort(),
    podName: `${name}-${process.pid}`,
    logLevel: 'debug',
    ...settings,
  });
  const rec = startProcess(dir, name, [process.execPath, OPERATOR_MAIN], logFile(dir, name), {
    env: { ...process.env, KUBECONFIG: kubeconfig, ...processEnv },
    cwd: repoRoot,
  });
  return { ok: true, value: rec };
}

/**
 * Starts the speaker of `node` inside its namespace (`ip netns exec`) as ServiceAccount
 * metallb-system/speaker, talking to the API server over the management bridge. Its Pod object
 * (`speaker-<node>`, created unless there) makes the node a gossip member; POD_NAME names it,
 * so it owns the ServiceL2Status objects the speaker writes.
 */
export async function startSpeaker(
  cp: ControlPlane,
  dir: string,
  node: string,
  o: ComponentOptions = {},
): Promise<StartResult> {
  const main = o.mains?.speaker ?? SPEAKER_MAIN;
  if (!existsSync(main))
    return {
      ok: false,
      error: `${main} is missing: build it (pnpm --filter @metallb-ts/speaker... build, or pnpm bundle)`,
    };
  const n = labNode(node);
  const kubeconfig = await serviceAccountKubeconfig(
    cp,
    INSTALL_NAMESPACE,
    COMPONENTS.speaker.serviceAccount,
    cp.server.lab,
  );
  await createSpeakerPod(cp, n);
  const withPod = { ...o, speaker: { podName: speakerPodName(node), ...o.speaker } };
  const env = { ...process.env, KUBECONFIG: kubeconfig, ...speakerEnv(INSTALL_NAMESPACE, n, withPod) };
  // `ip netns exec` execs the program, so the recorded PID is the speaker's own.
  const rec = startProcess(
    dir,
    speakerName(node),
    ['ip', 'netns', 'exec', n.name, process.execPath, ...(o.nodeFlags?.speaker ?? []), main],
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

/**
 * A planned restart, as a DaemonSet rollout does it: SIGTERM (the graceful leave), a new Pod
 * replacing the old one (what the old one owned is orphaned, for the new speaker to adopt), start.
 */
export async function restartSpeaker(
  cp: ControlPlane,
  dir: string,
  node: string,
  o: ComponentOptions = {},
): Promise<StartResult> {
  await killSpeaker(dir, node, 'SIGTERM');
  await deleteSpeakerPod(cp, node, { orphan: true });
  return startSpeaker(cp, dir, node, o);
}

/** No speaker on `node` any more: SIGTERM (the graceful leave) and its Pod deleted. */
export async function removeSpeaker(cp: ControlPlane, dir: string, node: string): Promise<void> {
  await killSpeaker(dir, node, 'SIGTERM');
  await deleteSpeakerPod(cp, node);
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

/**
 * Waits until the operator process is running and its log holds every one of `lines` (e.g. that
 * it became leader and started its webhook), printing its log when it does not.
 */
export async function waitForOperatorLog(
  dir: string,
  what: string,
  lines: readonly string[],
  name: string = operatorName,
): Promise<void> {
  await waitFor(
    what,
    async () => {
      const log = logs(dir, name, 40);
      if (!componentRunning(dir, name)) return { done: false, observed: `not running; log:\n${log}` };
      return lines.every((l) => log.includes(l))
        ? { done: true, value: undefined }
        : { done: false, observed: log };
    },
    { timeoutMs: 40_000, intervalMs: 300 },
  );
}
