// The lab command: `up` builds and starts everything from nothing and shows the demo working,
// `down` removes everything the lab made (also after a crash), `status` shows what runs.
//   lab-cli.ts up [--no-build]                        real kubelets, helm install (the user's path)
//   lab-cli.ts up --processes [--no-components]       components as host processes (fast; e2e, benches)
//   lab-cli.ts down [--force] | status
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildComponents } from './build-components.js';
import { applyClusterManifests } from './cluster-setup.js';
import { applyDemo, DEMO_NAMESPACE, DEMO_POOL_RANGE, waitForIngress } from './cluster-objects.js';
import { attachControlPlane, startControlPlane } from './control-plane.js';
import { Lab } from './lab.js';
import { claimLab, ownerAlive, pidsOnLabPorts, readOwner, releaseLab, sweepLeftovers } from './owner.js';
import { defaultLabDir, e2eRoot, repoRoot } from './paths.js';
import { clientArping, clientCurl, readNodeMacs } from './client.js';
import { type ControlPlane } from './control-plane.js';
import { waitFor } from './wait-for.js';
import { applyMetalLB, helmApply, RELEASE } from './node-mode/helm-install.js';
import { startKubeletLab } from './node-mode/kubelet-lab.js';
import { applyPodDemo } from './node-mode/pod-demo.js';
import { isRunning, readState, stateFile, stopAllRecorded } from './processes.js';
import { run } from './run.js';
import { CLIENT_NS, LAB_NAMESPACES, topologyGone } from './topology.js';
import { listNetns } from './netns.js';
import { nodeLeftovers } from './node-mode/node-teardown.js';

const t0 = Date.now();
const say = (line: string): void => {
  process.stdout.write(`[lab ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
};

function buildControlPlane(): void {
  say('control plane binaries: bash e2e/scripts/build-control-plane.sh');
  const r = spawnSync('bash', [join(e2eRoot, 'scripts', 'build-control-plane.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the control plane failed (see above)');
}

function runScript(what: string, argv: string[]): void {
  say(`${what}: ${argv.join(' ')}`);
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit', cwd: repoRoot });
  if (r.status !== 0) throw new Error(`${what} failed (see above)`);
}

/** Removes what the last life of the lab folder left (its processes first). */
async function freshLabDir(dir: string): Promise<void> {
  await claimLab('lab', dir, { progress: say });
  await stopAllRecorded(dir);
  for (const sub of ['etcd', 'logs', 'pki', 'state.json', 'registry', 'nodes'])
    rmSync(join(dir, sub), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/**
 * The user's path on real parts: images into a registry, kubelets, `helm install`, `MetalLB`, a
 * pool and a Service whose backends are pods.
 */
async function upKubelets(flags: Set<string>): Promise<void> {
  const dir = defaultLabDir();
  buildControlPlane();
  runScript('node runtime (containerd)', ['bash', join(e2eRoot, 'scripts', 'build-node-runtime.sh')]);
  runScript('lab images (pause, echo)', ['bash', join(e2eRoot, 'scripts', 'build-lab-images.sh')]);
  if (!flags.has('--no-build')) runScript('images (bundles, buildah)', ['pnpm', 'images']);
  say(`lab folder ${dir}`);
  await freshLabDir(dir);
  const lab = await startKubeletLab({ dir, progress: say });
  say(
    `helm install ${RELEASE} ./charts/metallb-ts --namespace metallb-system (images from ${lab.registry.host})`,
  );
  await helmApply(lab, 'install');
  say(
    'MetalLB metallb-system/metallb: waiting for Available=True (controller Deployment, speaker DaemonSet)',
  );
  await applyMetalLB(lab.cp);
  say(
    `demo: IPAddressPool demo (${DEMO_POOL_RANGE}), L2Advertisement demo (data0), Deployment demo (echo pods), Service demo/demo (LoadBalancer, Local)`,
  );
  await applyPodDemo(lab);
  let vip: string;
  try {
    [vip] = (await waitForIngress(lab.cp, DEMO_NAMESPACE, 'demo', 60_000)) as [string];
  } catch (e) {
    say(`demo: ${e instanceof Error ? e.message : String(e)}`);
    const pods = await lab.cp.kubectl(['get', 'pods', '-A', '-o', 'wide']);
    say(`pods:\n${pods.stdout}`);
    throw new Error('the demo Service got no address');
  }
  await reportDemo(lab.cp, dir, vip, () => undefined);
}

async function up(flags: Set<string>): Promise<void> {
  if (!flags.has('--processes')) return upKubelets(flags);
  const dir = defaultLabDir();
  buildControlPlane();
  if (!flags.has('--no-build') && !flags.has('--no-components')) {
    say('components: turbo build of @metallb-ts/controller and @metallb-ts/speaker (and their dependencies)');
    if (!buildComponents('inherit').ok)
      say('components: build FAILED; starting whatever dist/ holds (see above)');
  }
  say(`lab folder ${dir}`);
  // Waits (bounded) while an e2e run holds the lab; removes a dead owner's leftovers, and
  // whatever this folder's last life left: a fresh start every time.
  await freshLabDir(dir);
  const cp = await startControlPlane({ dir, progress: say });
  await applyClusterManifests(cp, say);
  const lab = await Lab.start({ cp, dir, progress: say, components: !flags.has('--no-components') });
  say(
    'demo: IPAddressPool demo (203.0.113.200-203.0.113.220), L2Advertisement demo, Service demo/demo (LoadBalancer, port 80)',
  );
  await applyDemo(cp);
  if (lab.componentErrors.size > 0 || flags.has('--no-components')) {
    say(
      `demo: components missing (${[...lab.componentErrors.keys()].join(', ') || 'skipped'}); the Service will stay pending`,
    );
    say(`lab is up without components; \`bash e2e/scripts/lab.sh down\` removes it`);
    return;
  }
  let vip: string;
  try {
    [vip] = (await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 60_000)) as [string];
  } catch (e) {
    say(`demo: ${e instanceof Error ? e.message : String(e)}`);
    say(`controller log tail:\n${lab.logs('controller', 20)}`);
    throw new Error('the demo Service got no address');
  }
  await reportDemo(cp, dir, vip, () => {
    for (const n of lab.nodes) say(`speaker-${n.name} log tail:\n${lab.logs(`speaker-${n.name}`, 15)}`);
  });
}

/**
 * Shows the demo working from the client namespace: who answers ARP for the VIP, what the
 * ServiceL2Status says, the HTTP answer, and the lines a user can run next.
 */
async function reportDemo(cp: ControlPlane, dir: string, vip: string, onNoAnswer: () => void): Promise<void> {
  say(`demo: Service demo/demo got ${vip}; asking "who has ${vip}?" from the client namespace`);
  const macs = await waitFor(
    `an ARP answer for ${vip} in the client namespace`,
    async () => {
      const r = await clientArping(vip);
      return r.macs.length > 0 ? { done: true, value: r.macs } : { done: false, observed: r.raw.trim() };
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  ).catch((e: unknown) => {
    say(String(e instanceof Error ? e.message : e));
    onNoAnswer();
    throw new Error(`nobody answered ARP for ${vip}`);
  });
  const nodeMacs = await readNodeMacs();
  const nodeForMac = (m: string): string | undefined =>
    [...nodeMacs].find(([, mac]) => mac === m.toLowerCase())?.[0];
  const announcing = macs.map((m) => `${nodeForMac(m) ?? 'unknown node'} (${m})`).join(', ');
  const l2 = await cp.kubectl([
    '-n',
    'metallb-system',
    'get',
    'servicel2statuses.metallb.io',
    '-o',
    'jsonpath={range .items[*]}{.status.node} {end}',
  ]);
  const curl = await clientCurl(`http://${vip}/`);
  say(
    `demo: ${vip} is announced by ${announcing}${l2.stdout.trim() ? `; ServiceL2Status says ${l2.stdout.trim()}` : ''}`,
  );
  say(
    `demo: HTTP from the client: ${curl.ok ? `served by ${curl.body.trim()}` : `failed (${curl.error || curl.status})`}`,
  );
  process.stdout.write(
    [
      '',
      `  VIP:              ${vip}`,
      `  announced by:     ${announcing}`,
      `  try:              ip netns exec ${CLIENT_NS} curl -s http://${vip}/`,
      `  who answers ARP:  ip netns exec ${CLIENT_NS} arping -c 1 -I data0 ${vip}`,
      `  kubectl:          ${cp.binDir}/kubectl --kubeconfig ${cp.adminKubeconfig} get svc -A`,
      `  logs:             ${dir}/logs/`,
      `  stop:             bash e2e/scripts/lab.sh down`,
      '',
    ].join('\n'),
  );
}

async function down(flags: Set<string>): Promise<void> {
  const owner = readOwner();
  if (owner && owner.kind === 'e2e' && ownerAlive(owner) && !flags.has('--force')) {
    throw new Error(`an e2e run (pid ${owner.pid}) holds the lab; wait for it or use --force`);
  }
  const dir = defaultLabDir();
  const stopped = existsSync(stateFile(dir)) ? await stopAllRecorded(dir) : [];
  if (stopped.length > 0) say(`stopped ${stopped.join(', ')}`);
  await sweepLeftovers(say);
  releaseLab(dir);
  const gone = await topologyGone();
  const nodesLeft = nodeLeftovers([dir]);
  // Only a folder the lab made (it has our state file or CA) is removed.
  if (existsSync(stateFile(dir)) || existsSync(join(dir, 'pki', 'ca.crt')))
    rmSync(dir, { recursive: true, force: true });
  const ports = await pidsOnLabPorts();
  if (!gone.gone || ports.length > 0 || nodesLeft.length > 0) {
    throw new Error(
      `left behind: ${[...gone.leftovers, ...nodesLeft, ...ports.map((p) => `pid ${p} on a lab port`)].join(', ')}`,
    );
  }
  say('lab is down: no namespaces, links, bridges, containers, mounts, cgroups, processes or files left');
}

async function status(): Promise<void> {
  const owner = readOwner();
  say(
    owner
      ? `held by ${owner.kind} (pid ${owner.pid}, ${ownerAlive(owner) ? 'alive' : 'dead'}), folder ${owner.dir}`
      : 'nobody holds the lab',
  );
  const dir = owner?.dir ?? defaultLabDir();
  const procs = Object.values(readState(dir).processes);
  for (const p of procs)
    say(
      `  ${p.name.padEnd(26)} pid ${String(p.pid).padEnd(8)} ${isRunning(p) ? 'running' : 'NOT running'}  log ${p.log}`,
    );
  const ns = (await listNetns()).filter((n) => LAB_NAMESPACES.includes(n));
  say(`namespaces: ${ns.join(', ') || '(none)'}`);
  if (procs.some((p) => p.name === 'kube-apiserver' && isRunning(p))) {
    const cp = attachControlPlane({ dir });
    const svcs = await cp.kubectl(['get', 'services', '-A', '--field-selector=spec.type=LoadBalancer']);
    process.stdout.write(`${svcs.stdout}${svcs.stderr}`);
    if (existsSync(join(dir, 'nodes'))) {
      // The kubelet lab: pods are the truth, kube-proxy keeps no addresses on a device.
      const pods = await cp.kubectl(['get', 'pods', '-A', '-o', 'wide']);
      process.stdout.write(`${pods.stdout}${pods.stderr}`);
    } else if (ns.length > 0) {
      const lab = await Lab.attach(cp, dir);
      for (const n of lab.nodes)
        say(`  ${n.name} kube-ipvs0: ${(await lab.vipsOn(n.name)).join(' ') || '(none)'}`);
    }
    if (ns.length > 0) {
      const neigh = await run(['ip', '-n', CLIENT_NS, 'neigh']);
      say(`client neighbours:\n${neigh.stdout.trim()}`);
    }
  }
}

const [verb, ...rest] = process.argv.slice(2);
const flags = new Set(rest);
try {
  if (verb === 'up') await up(flags);
  else if (verb === 'down') await down(flags);
  else if (verb === 'status') await status();
  else {
    process.stderr.write(
      'usage: lab.sh up [--processes [--no-components]] [--no-build] | down [--force] | status\n',
    );
    process.exit(2);
  }
} catch (e) {
  say(`${verb} failed: ${e instanceof Error ? e.message : String(e)}`);
  if (verb === 'up') say('run `bash e2e/scripts/lab.sh down` to clean up');
  process.exit(1);
}
