// The user's path on real parts: `helm install` of our chart onto a cluster whose nodes run real
// kubelets, containerd and kube-proxy, pulling our images from a real registry; then MetalLB, a
// pool and a Service with backend pods, failover by pod deletion and by node death, a rolling
// change, removal and uninstall. One lab for the whole file: each step builds on the last.
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS, LABELS } from '@metallb-ts/manifests';
import { queriedMetricNames } from '../../packages/manifests/scripts/observability.js';
import { clientArping, clientCurl, readNodeMacs } from '../src/client.js';
import { INSTALL_NAMESPACE } from '../src/cluster-setup.js';
import { DEMO_NAMESPACE, filledPoolObjects, waitForIngress } from '../src/cluster-objects.js';
import { netnsPids } from '../src/netns.js';
import { applyMetalLB, helmApply, helmUninstall } from '../src/node-mode/helm-install.js';
import {
  killLabNode,
  restartLabNode,
  startKubeletLab,
  type KubeletLab,
} from '../src/node-mode/kubelet-lab.js';
import { destroyNodes, nodeLeftovers } from '../src/node-mode/node-teardown.js';
import { applyPodDemo, podsOf } from '../src/node-mode/pod-demo.js';
import { claimLab, releaseLab } from '../src/owner.js';
import {
  PROMETHEUS_SERVICE_ACCOUNT,
  startPrometheus,
  waitForComponentsUp,
  type Prometheus,
} from '../src/prometheus.js';
import { stopAllRecorded } from '../src/processes.js';
import { destroyTopology } from '../src/topology.js';
import { sleep, waitFor } from '../src/wait-for.js';

jest.setTimeout(15 * 60_000);

const progress = (line: string): void => {
  process.stderr.write(`[cluster] ${line}\n`);
};
const selector = (component: 'operator' | 'controller' | 'speaker'): string =>
  `${LABELS.component}=${component}`;

let dir = '';
let lab: KubeletLab;
let vip = '';
let prom: Prometheus | undefined;
let nodeMacs = new Map<string, string>();

/** The node whose data MAC answers ARP for the VIP now (undefined while nobody answers). */
async function announcingNode(timeoutMs = 1_000): Promise<string | undefined> {
  const r = await clientArping(vip, { timeoutMs });
  const mac = r.macs[0];
  return [...nodeMacs].find(([, m]) => m === mac)?.[0];
}

async function waitAnnouncedBy(
  description: string,
  accept: (node: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  return waitFor(
    description,
    async () => {
      const node = await announcingNode();
      return node && accept(node)
        ? { done: true, value: node }
        : { done: false, observed: node ?? 'no answer' };
    },
    { timeoutMs, intervalMs: 100 },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'metallb-ts-cluster-'));
  await claimLab('e2e', dir, { progress });
  lab = await startKubeletLab({ dir, progress });
  nodeMacs = await readNodeMacs();
});

afterAll(async () => {
  if (!dir) return;
  await stopAllRecorded(dir);
  const removed = await destroyNodes([dir]);
  progress(`nodes removed: ${removed.length} item(s)`);
  await destroyTopology();
  releaseLab(dir);
  const left = nodeLeftovers([dir]);
  rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`the kubelet lab left: ${left.join(', ')}`);
});

test('helm install: the operator runs as a pod from its image, Ready, as the chart ServiceAccount', async () => {
  // As a user with Prometheus would: the chart grants its ServiceAccount discovery in our namespace.
  await helmApply(lab, 'install', {
    'prometheus.rbac.enabled': 'true',
    'prometheus.serviceAccount.name': PROMETHEUS_SERVICE_ACCOUNT.name,
    'prometheus.serviceAccount.namespace': PROMETHEUS_SERVICE_ACCOUNT.namespace,
  });
  const pods = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('operator'));
  expect(pods).toHaveLength(1);
  expect(pods[0]).toMatchObject({ phase: 'Running', ready: true });
  const spec = JSON.parse(
    await lab.cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'get', 'pod', pods[0]!.name, '-o', 'json']),
  ) as { spec: { serviceAccountName: string; containers: { image: string }[] } };
  expect(spec.spec.serviceAccountName).toBe(COMPONENTS.operator.serviceAccount);
  expect(spec.spec.containers[0]!.image).toBe(lab.images.get('operator')!.ref);
});

test('MetalLB/metallb: the controller and one speaker per node Running and Ready, Available=True', async () => {
  await applyMetalLB(lab.cp);
  const controller = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('controller'));
  expect(controller.map((p) => [p.phase, p.ready])).toEqual([['Running', true]]);
  const speakers = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'));
  expect(speakers.map((p) => p.node).sort()).toEqual(['node-1', 'node-2', 'node-3']);
  expect(speakers.every((p) => p.phase === 'Running' && p.ready)).toBe(true);
});

test('the speaker runs as its ServiceAccount, unprivileged, with no capability but NET_RAW', async () => {
  const [speaker] = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'));
  const pod = JSON.parse(
    await lab.cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'get', 'pod', speaker!.name, '-o', 'json']),
  ) as {
    spec: {
      serviceAccountName: string;
      hostNetwork: boolean;
      containers: {
        securityContext?: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
      }[];
    };
  };
  expect(pod.spec.serviceAccountName).toBe(COMPONENTS.speaker.serviceAccount);
  expect(pod.spec.hostNetwork).toBe(true);
  const sc = pod.spec.containers[0]!.securityContext ?? {};
  expect(sc.privileged ?? false).toBe(false);
  expect(sc.capabilities?.add).toEqual(['NET_RAW']);
  // The running process, not only the spec: its effective capability set is exactly NET_RAW.
  const pids = await netnsPids(speaker!.node);
  const speakerPid = pids.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/app/main.mjs');
    } catch {
      return false;
    }
  });
  expect(speakerPid).toBeDefined();
  const capEff = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${speakerPid}/status`, 'utf8'))?.[1];
  const NET_RAW_BIT = 13;
  expect(BigInt(`0x${capEff}`)).toBe(1n << BigInt(NET_RAW_BIT));
});

test('a pool and a Service: the client reaches a backend pod through the VIP', async () => {
  await applyPodDemo(lab);
  [vip] = (await waitForIngress(lab.cp, DEMO_NAMESPACE, 'demo', 60_000)) as [string];
  const node = await waitAnnouncedBy(`an ARP answer for ${vip}`, () => true, 30_000);
  const curl = await waitFor(
    `HTTP from the client to ${vip}`,
    async () => {
      const r = await clientCurl(`http://${vip}/`);
      return r.ok ? { done: true, value: r } : { done: false, observed: r };
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  // externalTrafficPolicy Local: the announcing node's own pod answers.
  expect(curl.body.trim()).toMatch(new RegExp(`^demo-[a-z0-9-]+ on ${node}$`));
});

test('Prometheus finds every component through the API server and scrapes it; the demo pool reads 1 address in use', async () => {
  prom = await startPrometheus({
    dir: join(dir, 'prometheus'),
    cp: lab.cp,
    stateDir: dir,
    readerFromChart: true,
    progress,
  });
  const up = await waitForComponentsUp(prom, {
    operator: true,
    controller: true,
    speakerNodes: ['node-1', 'node-2', 'node-3'],
  });
  expect(up.every((s) => s.value === 1)).toBe(true);
  const inUse = await prom.waitForQuery(
    'metallb_allocator_addresses_in_use_total{pool="demo"}',
    (samples) => samples.length === 1 && samples[0]!.value === 1,
  );
  expect(inUse[0]!.value).toBe(1);
  // Every metric the chart's alerts and dashboard query is one the running pods export: checked
  // against the metric families Prometheus scraped (histograms by their family name).
  const missing = await waitFor(
    'the metric families Prometheus scraped to include every name the alerts and dashboard use',
    async () => {
      const res = await fetch(`${prom!.url}/api/v1/metadata`, { signal: AbortSignal.timeout(5_000) });
      const families = new Set(Object.keys(((await res.json()) as { data: Record<string, unknown> }).data));
      const absent = queriedMetricNames().filter(
        (n) => !families.has(n) && !families.has(n.replace(/_(bucket|sum|count)$/, '')),
      );
      return absent.length === 0 ? { done: true, value: absent } : { done: false, observed: absent };
    },
    { timeoutMs: 30_000, intervalMs: 1_000 },
  );
  expect(missing).toEqual([]);
  // A one-address pool filled by a Service: MetalLBAddressPoolExhausted waits `for: 1m`, so it is
  // checked after the next steps.
  await lab.cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: filledPoolObjects(),
    }),
  });
  await waitForIngress(lab.cp, DEMO_NAMESPACE, 'fills-tiny', 30_000);
});

test('kubectl delete pod of the announcing speaker: the VIP moves, then comes back', async () => {
  const owner = (await announcingNode())!;
  const speaker = (await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'))).find(
    (p) => p.node === owner,
  )!;
  progress(`deleting ${speaker.name} on ${owner}, which announces ${vip}`);
  await lab.cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'delete', 'pod', speaker.name, '--wait=false']);
  const moved = await waitAnnouncedBy(`${vip} to move away from ${owner}`, (n) => n !== owner, 30_000);
  progress(`${vip} moved to ${moved}`);
  await waitFor(
    `a new speaker pod on ${owner} Running and Ready`,
    async () => {
      const pods = (await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'))).filter(
        (p) => p.node === owner,
      );
      return pods.some((p) => p.name !== speaker.name && p.ready)
        ? { done: true, value: undefined }
        : { done: false, observed: pods };
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  // The election is a pure function of the nodes and the Service: the same node wins again.
  await waitAnnouncedBy(`${vip} to come back to ${owner}`, (n) => n === owner, 30_000);
  expect((await clientCurl(`http://${vip}/`)).ok).toBe(true);
});

test('helm upgrade and a changed logLevel roll the speakers one node at a time while curl keeps answering', async () => {
  const before = new Set((await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'))).map((p) => p.name));
  await helmApply(lab, 'upgrade', { 'operator.logLevel': 'debug' });
  await lab.cp.kubectlOk([
    '-n',
    INSTALL_NAMESPACE,
    'patch',
    'metallb',
    'metallb',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { logLevel: 'debug' } }),
  ]);
  let maxUnready = 0;
  const curls = { ok: 0, failed: [] as string[] };
  const deadline = Date.now() + 240_000;
  for (;;) {
    const pods = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'));
    const fresh = pods.filter((p) => !before.has(p.name));
    maxUnready = Math.max(maxUnready, 3 - pods.filter((p) => p.ready).length);
    const r = await clientCurl(`http://${vip}/`, { timeoutMs: 3_000 });
    if (r.ok) curls.ok += 1;
    else curls.failed.push(`${new Date().toISOString()} ${r.status} ${r.error}`);
    if (fresh.length === 3 && fresh.every((p) => p.ready)) break;
    if (Date.now() > deadline)
      throw new Error(`the speakers did not roll within 240 s: ${JSON.stringify(pods)}`);
    await sleep(200);
  }
  progress(
    `rolled: at most ${maxUnready} speaker(s) unready at once; curl ${curls.ok} ok, ${curls.failed.length} failed`,
  );
  expect(maxUnready).toBeLessThanOrEqual(1);
  expect(curls.failed).toEqual([]);
  expect(curls.ok).toBeGreaterThan(3);
});

test("Prometheus fires MetalLBAddressPoolExhausted for the filled pool, from the chart's rules", async () => {
  const alerts = await prom!.waitForAlerts(
    (a) => a.some((x) => x.labels.alertname === 'MetalLBAddressPoolExhausted' && x.state === 'firing'),
    150_000,
  );
  const exhausted = alerts.filter(
    (a) => a.labels.alertname === 'MetalLBAddressPoolExhausted' && a.state === 'firing',
  );
  expect(exhausted.map((a) => a.labels.pool)).toEqual(['tiny']);
  await lab.cp.kubectlOk(['-n', DEMO_NAMESPACE, 'delete', 'service', 'fills-tiny', '--wait=true']);
  await prom!.stop();
  prom = undefined;
});

test('a whole node dies (kubelet, runtime, containers, data link): the VIP moves within the failover time', async () => {
  const owner = (await announcingNode())!;
  const operatorOn = (await podsOf(lab.cp, INSTALL_NAMESPACE, selector('operator'))).map((p) => p.node);
  progress(`the operator's pod runs on ${operatorOn.join(', ') || '(none)'}; ${owner} dies`);
  const started = Date.now();
  await killLabNode(lab, owner);
  const moved = await waitAnnouncedBy(
    `${vip} to move away from the dead ${owner}`,
    (n) => n !== owner,
    10_000,
  );
  const tookMs = Date.now() - started;
  progress(`${owner} died; ${vip} answered by ${moved} after ${tookMs} ms (arping resolution about 1 s)`);
  expect(tookMs).toBeLessThan(5_000);
  const curl = await waitFor(
    `HTTP to ${vip} after ${owner} died`,
    async () => {
      const r = await clientCurl(`http://${vip}/`);
      return r.ok ? { done: true, value: r } : { done: false, observed: r };
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  expect(curl.body.trim()).toMatch(new RegExp(` on ${moved}$`));
  await restartLabNode(lab, owner);
  await waitFor(
    `the speaker on the restarted ${owner} Running and Ready`,
    async () => {
      const pods = (await podsOf(lab.cp, INSTALL_NAMESPACE, selector('speaker'))).filter(
        (p) => p.node === owner,
      );
      return pods.some((p) => p.ready) ? { done: true, value: undefined } : { done: false, observed: pods };
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  // The dead node may have taken the operator's pod with it: the next tests need it back.
  await waitFor(
    "the operator's pod Running and Ready again",
    async () => {
      const pods = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('operator'));
      return pods.length === 1 && pods[0]!.ready
        ? { done: true, value: undefined }
        : { done: false, observed: pods };
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
});

/** The operator's last log lines, for a failure message. */
async function operatorLog(): Promise<string> {
  const r = await lab.cp.kubectl([
    '-n',
    INSTALL_NAMESPACE,
    'logs',
    '-l',
    selector('operator'),
    '--tail=40',
    '--all-containers',
  ]);
  return (r.stdout + r.stderr).trim();
}

test('deleting MetalLB/metallb removes the components', async () => {
  await lab.cp.kubectlOk([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'metallb',
    'metallb',
    '--wait=true',
    '--timeout=120s',
  ]);
  await waitFor(
    'no controller Deployment, speaker DaemonSet or their pods',
    async () => {
      const left = await lab.cp.kubectlOk([
        '-n',
        INSTALL_NAMESPACE,
        'get',
        'deployments,daemonsets,pods',
        '-l',
        `${LABELS.component} in (controller,speaker)`,
        '--no-headers',
        '-o',
        // On a timeout, what holds each object: a pod on a slow node, an owner not yet collected.
        'custom-columns=KIND:.kind,NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase,' +
          'DELETING:.metadata.deletionTimestamp,OWNERS:.metadata.ownerReferences[*].kind',
      ]);
      return left.trim() === '' ? { done: true, value: undefined } : { done: false, observed: left };
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  const operator = await podsOf(lab.cp, INSTALL_NAMESPACE, selector('operator'));
  if (!operator.every((p) => p.ready))
    process.stderr.write(
      `[cluster] the operator is not ready: ${JSON.stringify(operator)}\n${await operatorLog()}\n`,
    );
  expect(operator.map((p) => p.ready)).toEqual([true]);
});

test('helm uninstall leaves nothing of ours in the cluster but the CRDs (Helm never deletes those)', async () => {
  // The user's own objects go first, as a user removing the product would do.
  await lab.cp.kubectlOk(['delete', 'service', '-n', DEMO_NAMESPACE, 'demo', '--wait=true']);
  await lab.cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'delete', 'ipaddresspools,l2advertisements', '--all']);
  await helmUninstall(lab.cp);
  const expected = new Set(['serviceaccount/default', 'configmap/kube-root-ca.crt']);
  await waitFor(
    `nothing left in ${INSTALL_NAMESPACE}, no cluster RBAC or webhook of ours`,
    async () => {
      const namespaced = await lab.cp.kubectlOk([
        '-n',
        INSTALL_NAMESPACE,
        'get',
        'all,serviceaccounts,roles,rolebindings,configmaps,secrets,leases.coordination.k8s.io,servicel2statuses.metallb.io',
        '-o',
        'name',
      ]);
      const cluster = await lab.cp.kubectlOk([
        'get',
        'clusterroles,clusterrolebindings,validatingwebhookconfigurations',
        '-l',
        `${LABELS.name}=metallb-ts`,
        '-o',
        'name',
      ]);
      const left = [...namespaced.split('\n'), ...cluster.split('\n')]
        .map((s) => s.trim())
        .filter((s) => s !== '' && !expected.has(s));
      return left.length === 0 ? { done: true, value: undefined } : { done: false, observed: left };
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  const crds = (await lab.cp.kubectlOk(['get', 'crds', '-o', 'name']))
    .split('\n')
    .filter((c) => c.includes('metallb.io'));
  progress(`after helm uninstall only the CRDs remain: ${crds.join(', ')}`);
  expect(crds.length).toBeGreaterThan(0);
});
