import { COMPONENT_NAMES, type ControlPlane } from './control-plane.js';
import { INSTALL_NAMESPACE } from './cluster-setup.js';
import {
  createDemoPods,
  waitForEndpointSlicesCurrent,
  createNodes,
  DEMO_NAMESPACE,
  setPodReady,
  SPEAKER_POD_SELECTOR,
} from './cluster-objects.js';
import {
  componentRunning,
  controllerName,
  killSpeaker,
  logFile,
  logs,
  removeSpeaker,
  restartSpeaker,
  speakerName,
  startController,
  startSpeaker,
  type ComponentOptions,
  type StartResult,
} from './components.js';
import { nsExec } from './netns.js';
import {
  clientArping,
  clientCurl,
  clientOwners,
  clientNeighbour,
  flushClientNeighbours,
  readNodeMacs,
  type ArpingOptions,
  type ArpingResult,
  type CurlResult,
  type Neighbour,
} from './client.js';
export type { ArpingResult, CurlResult, Neighbour } from './client.js';
import { nodeArgvFor } from './paths.js';
import { readState, startProcess, stopProcess, tailFile, forgetProcess } from './processes.js';
import { run } from './run.js';
import {
  createTopology,
  DATA_IF,
  describeTopology,
  destroyTopology,
  LAB_NODES,
  labNode,
  VIP_IF,
  type LabNode,
} from './topology.js';
import { waitFor, type Probe, type WaitOptions } from './wait-for.js';

export const LAB_PROXY = 'lab-proxy';
export const backendName = (node: string): string => `backend-${node}`;
/** Ports every backend listens on: the demo Service's port and its targetPort (see lab-proxy.ts). */
export const BACKEND_PORTS = '8080,80';

/** A test's `progress` for `Lab.start`: each line on stderr, marked as the lab's. */
export const labProgressOnStderr = (line: string): void => void process.stderr.write(`[lab] ${line}\n`);

export interface LabOptions {
  readonly cp: ControlPlane;
  /** State and logs folder (default: the control plane's). */
  readonly dir?: string;
  readonly progress?: (line: string) => void;
  /** Start the controller and the speakers (default true). */
  readonly components?: boolean;
  /** The nodes that run a speaker (default all): the others have a Node but no speaker Pod. */
  readonly speakers?: readonly string[];
  readonly componentOptions?: ComponentOptions;
}

/**
 * The lab: the control plane (already running), network namespaces as nodes, Node and Pod
 * objects, backends, the service proxy, and the metallb-ts components. Scenario tests get one
 * from `Lab.start` and call `stop` at the end.
 */
export class Lab {
  readonly nodes: readonly LabNode[] = LAB_NODES;
  /** data0 MAC of each node, read after the topology was made. */
  readonly nodeMacs: ReadonlyMap<string, string>;
  /** Components that could not be started (e.g. not built yet), by name. */
  readonly componentErrors: Map<string, string> = new Map();

  private constructor(
    readonly cp: ControlPlane,
    readonly dir: string,
    nodeMacs: Map<string, string>,
    private readonly progress: (line: string) => void,
  ) {
    this.nodeMacs = nodeMacs;
  }

  static async start(o: LabOptions): Promise<Lab> {
    const progress = o.progress ?? (() => undefined);
    const dir = o.dir ?? o.cp.dir;
    const cp = o.cp;
    await stopLabProcesses(dir);
    await createTopology(progress);
    const lab = new Lab(cp, dir, await readNodeMacs(), progress);
    try {
      progress('cluster: Node objects node-1..3 (Ready=True, InternalIP = management, then data address)');
      await createNodes(cp, LAB_NODES);
      for (const n of LAB_NODES) {
        startProcess(
          dir,
          backendName(n.name),
          ['ip', 'netns', 'exec', n.name, ...nodeArgvFor('backend'), n.name, BACKEND_PORTS],
          logFile(dir, backendName(n.name)),
        );
      }
      progress(`backends: HTTP on ${BACKEND_PORTS} in every node namespace`);
      progress('cluster: demo pods (hostNetwork, Running, Ready) in namespace demo');
      await createDemoPods(cp, LAB_NODES);
      progress("cluster: kube-controller-manager lists the demo pods in a probe Service's EndpointSlice");
      await waitForEndpointSlicesCurrent(cp, LAB_NODES);
      startProcess(
        dir,
        LAB_PROXY,
        [...nodeArgvFor('lab-proxy'), cp.adminKubeconfig, LAB_NODES.map((n) => n.name).join(',')],
        logFile(dir, LAB_PROXY),
      );
      progress('lab-proxy: keeps kube-ipvs0 in every node equal to the LoadBalancer ingress IPs');
      for (const n of LAB_NODES) {
        await lab.waitFor(
          `backend of ${n.name} to answer on ${n.dataIp}:8080`,
          async () => {
            const r = await lab.clientCurl(`http://${n.dataIp}:8080/`, { timeoutMs: 1_000 });
            return r.ok && r.body.trim() === n.name
              ? { done: true, value: undefined }
              : { done: false, observed: r };
          },
          { timeoutMs: 20_000, intervalMs: 200 },
        );
      }
      if (o.components ?? true) await lab.startComponents(o.componentOptions, o.speakers);
      return lab;
    } catch (e) {
      const dump = await lab.dump().catch(() => '');
      await lab.stop().catch(() => undefined);
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- lab dump ---\n${dump}`);
    }
  }

  /** A handle on a lab started earlier (e.g. by `lab up`), for status and helpers. */
  static async attach(cp: ControlPlane, dir: string = cp.dir): Promise<Lab> {
    return new Lab(cp, dir, await readNodeMacs(), () => undefined);
  }

  /**
   * Starts the controller and the speakers of `speakers` (default every node); failures are kept
   * in `componentErrors` and returned.
   */
  async startComponents(
    o: ComponentOptions = {},
    speakers: readonly string[] = this.nodes.map((n) => n.name),
  ): Promise<Map<string, string>> {
    const record = (name: string, r: StartResult) => {
      if (r.ok) {
        this.componentErrors.delete(name);
        this.progress(`${name}: started (pid ${r.value.pid}, log ${r.value.log})`);
      } else {
        this.componentErrors.set(name, r.error);
        this.progress(`${name}: NOT started: ${r.error}`);
      }
    };
    record(controllerName, await startController(this.cp, this.dir, o));
    for (const n of speakers) record(speakerName(n), await startSpeaker(this.cp, this.dir, n, o));
    return this.componentErrors;
  }

  /** Throws, naming each failure, when a component did not start (the lab is left for `stop`). */
  assertComponentsStarted(): void {
    if (this.componentErrors.size > 0)
      throw new Error(`components did not start: ${JSON.stringify([...this.componentErrors])}`);
  }

  /** Starts the speaker of `node` (and its Pod object). */
  startSpeaker(node: string, o: ComponentOptions = {}): Promise<StartResult> {
    return startSpeaker(this.cp, this.dir, node, o);
  }

  /** The node no longer runs a speaker: graceful leave, Pod deleted (it is no gossip member). */
  removeSpeaker(node: string): Promise<void> {
    return removeSpeaker(this.cp, this.dir, node);
  }

  /** SIGKILL / SIGTERM end the speaker; SIGSTOP / SIGCONT freeze and thaw it. */
  killSpeaker(node: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<boolean> {
    return killSpeaker(this.dir, node, signal);
  }

  restartSpeaker(node: string, o: ComponentOptions = {}): Promise<StartResult> {
    return restartSpeaker(this.cp, this.dir, node, o);
  }

  running(name: string): boolean {
    return componentRunning(this.dir, name);
  }

  /** Last lines of a lab process's log: `controller`, `speaker-node-1`, `lab-proxy`, `backend-node-2`, `kube-apiserver`... */
  logs(name: string, lines = 60): string {
    return logs(this.dir, name, lines);
  }

  /** Takes a node's data link down or up (a "cable pull" that the speaker's process survives). */
  async setDataLink(node: string, up: boolean): Promise<void> {
    const r = await run(['ip', '-n', labNode(node).name, 'link', 'set', DATA_IF, up ? 'up' : 'down']);
    if (r.code !== 0) throw new Error(`set ${node} ${DATA_IF} ${up ? 'up' : 'down'}: ${r.stderr}`);
  }

  setPodReady(node: string, ready: boolean): Promise<void> {
    return setPodReady(this.cp, labNode(node), ready);
  }

  nsExec(ns: string, argv: readonly string[], timeoutMs = 10_000) {
    return nsExec(ns, argv, { timeoutMs });
  }

  /** See `clientArping` in client.ts. */
  clientArping(ip: string, o: ArpingOptions = {}): Promise<ArpingResult> {
    return clientArping(ip, o);
  }

  /** See `clientOwners` in client.ts: who answers for each address, in one round. */
  clientOwners(ips: readonly string[], listenMs: number): Promise<Map<string, string[]>> {
    return clientOwners(ips, listenMs);
  }

  clientNeighbour(ip: string): Promise<Neighbour> {
    return clientNeighbour(ip);
  }

  flushClientNeighbours(ip?: string): Promise<void> {
    return flushClientNeighbours(ip);
  }

  clientCurl(url: string, o: { timeoutMs?: number } = {}): Promise<CurlResult> {
    return clientCurl(url, o);
  }

  /** Which lab node owns a MAC (data0), if any. */
  nodeForMac(mac: string | undefined): string | undefined {
    if (!mac) return undefined;
    const m = mac.toLowerCase();
    for (const [node, nodeMac] of this.nodeMacs) if (nodeMac === m) return node;
    return undefined;
  }

  /** The VIPs the lab-proxy has put on a node's kube-ipvs0. */
  async vipsOn(node: string): Promise<string[]> {
    const r = await run(['ip', '-n', labNode(node).name, '-j', 'addr', 'show', 'dev', VIP_IF]);
    const links = JSON.parse(r.stdout.trim() || '[]') as { addr_info?: { local: string; scope: string }[] }[];
    return links
      .flatMap((l) => l.addr_info ?? [])
      .filter((a) => a.scope === 'global')
      .map((a) => a.local)
      .sort();
  }

  /** Bounded poll (see `waitFor`); on time-out the error carries the last observation. */
  waitFor<T>(
    description: string,
    probe: () => Promise<Probe<T>> | Probe<T>,
    options: WaitOptions = {},
  ): Promise<T> {
    return waitFor(description, probe, options);
  }

  /** Runs one step of a test; when it fails, the error carries everything the lab can show. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const dump = await this.dump().catch((d: unknown) => `dump failed: ${String(d)}`);
      throw new Error(
        `step "${name}" failed: ${e instanceof Error ? e.message : String(e)}\n\n--- what the lab saw ---\n${dump}`,
      );
    }
  }

  /**
   * A text report for failure messages: cluster objects (services, pools, advertisements,
   * statuses, leases, events), the network (addresses, neighbours, VIPs) and log tails.
   */
  async dump(logLines = 40): Promise<string> {
    const parts: string[] = [];
    const k = async (title: string, args: string[]) => {
      const r = await this.cp.kubectl(args, { timeoutMs: 15_000 });
      parts.push(`### ${title}\n${(r.stdout + r.stderr).trim()}`);
    };
    await k('services', ['get', 'services', '-A', '-o', 'wide']);
    await k('endpointslices', ['get', 'endpointslices.discovery.k8s.io', '-A']);
    await k('ipaddresspools', ['-n', INSTALL_NAMESPACE, 'get', 'ipaddresspools.metallb.io', '-o', 'yaml']);
    await k('l2advertisements', [
      '-n',
      INSTALL_NAMESPACE,
      'get',
      'l2advertisements.metallb.io',
      '-o',
      'yaml',
    ]);
    await k('addresspools', ['-n', INSTALL_NAMESPACE, 'get', 'addresspools.metallb.io']);
    await k('servicel2statuses', [
      '-n',
      INSTALL_NAMESPACE,
      'get',
      'servicel2statuses.metallb.io',
      '-o',
      'yaml',
    ]);
    await k('leases', ['-n', INSTALL_NAMESPACE, 'get', 'leases', '-o', 'wide']);
    await k('nodes', ['get', 'nodes', '-o', 'wide']);
    await k('speaker pods', [
      '-n',
      INSTALL_NAMESPACE,
      'get',
      'pods',
      '-l',
      SPEAKER_POD_SELECTOR,
      '-o',
      'wide',
    ]);
    await k('events', ['get', 'events', '-A', '--sort-by=.lastTimestamp']);
    parts.push(`### network\n${await describeTopology()}`);
    for (const n of this.nodes)
      parts.push(`### ${n.name} ${VIP_IF}: ${(await this.vipsOn(n.name)).join(' ') || '(none)'}`);
    parts.push(`### node MACs\n${[...this.nodeMacs].map(([n, m]) => `${n} ${m}`).join('\n')}`);
    const names = Object.keys(readState(this.dir).processes).filter(
      (n) => !(COMPONENT_NAMES as readonly string[]).includes(n),
    );
    for (const name of [
      ...new Set([controllerName, ...this.nodes.map((n) => speakerName(n.name)), LAB_PROXY, ...names]),
    ]) {
      const state = this.running(name) ? 'running' : 'NOT running';
      const err = this.componentErrors.get(name);
      parts.push(`### log ${name} (${state}${err ? `; ${err}` : ''})\n${this.logs(name, logLines)}`);
    }
    for (const c of COMPONENT_NAMES) parts.push(`### log ${c}\n${tailFile(this.cp.logs[c], 15)}`);
    return parts.join('\n\n');
  }

  /**
   * Stops the components, the proxy and the backends, removes the network, and deletes the lab's
   * cluster objects (Nodes, the demo namespace's contents, metallb.io objects) so the next lab
   * starts clean. The control plane keeps running.
   */
  async stop(): Promise<void> {
    await stopLabProcesses(this.dir);
    await destroyTopology();
    await resetClusterObjects(this.cp);
  }
}

/** Stops every recorded process of `dir` except the control plane's. */
export async function stopLabProcesses(dir: string): Promise<void> {
  const state = readState(dir);
  await Promise.all(
    Object.values(state.processes)
      .filter((p) => !(COMPONENT_NAMES as readonly string[]).includes(p.name))
      .map(async (p) => {
        await stopProcess(p, 'SIGTERM', 5_000);
        forgetProcess(dir, p.name);
      }),
  );
}

/** Deletes what a lab put into the cluster (tolerant of missing CRDs and objects). */
export async function resetClusterObjects(cp: ControlPlane): Promise<void> {
  // The demo namespace is emptied, not deleted. Deleting it hands the work to
  // kube-controller-manager's namespace controller, which backs off while kube-apiserver
  // restarts (a test right after a lab may restart it); the next lab then waits for the
  // namespace to finish terminating. That wait running out is the likely cause of CI stop 16.
  // Services go first and synchronously: one left behind would be given an address by the next
  // lab's controller. The pods have no kubelet, so they are removed without a grace period.
  await cp.kubectl(['-n', DEMO_NAMESPACE, 'delete', 'services', '--all', '--wait=true', '--timeout=60s']);
  await cp.kubectl([
    '-n',
    DEMO_NAMESPACE,
    'delete',
    'pods,endpointslices.discovery.k8s.io,endpoints,events',
    '--all',
    '--ignore-not-found',
    '--grace-period=0',
    '--force',
  ]);
  await cp.kubectl(['delete', 'nodes', '-l', 'metallb-ts.lab/node=true', '--ignore-not-found']);
  for (const kind of [
    'ipaddresspools.metallb.io',
    'l2advertisements.metallb.io',
    'addresspools.metallb.io',
    'servicel2statuses.metallb.io',
  ]) {
    await cp.kubectl(['-n', INSTALL_NAMESPACE, 'delete', kind, '--all', '--ignore-not-found']);
  }
  await cp.kubectl(['-n', INSTALL_NAMESPACE, 'delete', 'leases', '--all', '--ignore-not-found']);
  await cp.kubectl([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'pods',
    '-l',
    SPEAKER_POD_SELECTOR,
    '--ignore-not-found',
    '--grace-period=0',
    '--force',
  ]);
}
