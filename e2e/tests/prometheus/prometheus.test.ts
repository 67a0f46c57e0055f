import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import {
  COMPONENTS,
  MEMBERLIST,
  METRICS_PORT,
  MONITORING_PORT_NAME,
  metricsService,
  selectorLabels,
  type ComponentName,
} from '@metallb-ts/manifests';
import { applyDemo, DEMO_NAMESPACE, filledPoolObjects, speakerPodName } from '../../src/cluster-objects.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { labControlPlane, MGMT_HOST_IP, type ControlPlane } from '../../src/control-plane.js';
import { Lab } from '../../src/lab.js';
import {
  PROMETHEUS_SERVICE_ACCOUNT,
  startPrometheus,
  waitForComponentsUp,
  type Alert,
  type Prometheus,
} from '../../src/prometheus.js';
import { LAB_NODES, MGMT_IF } from '../../src/topology.js';

/*
 * Prometheus discovers the process-mode lab's controller and speakers as a user's would: Kubernetes
 * service discovery (endpointslice) against the lab's API server, as a ServiceAccount of namespace
 * `monitoring` bound to the one source's reader Role, keeping the metrics Services the one source
 * renders. The process-mode lab has no kubelet, so what one would write is written for it: a Pod
 * per component (hostNetwork, its monitoring port, Running and Ready, the IP it serves metrics on),
 * the speakers' by the lab itself and the controller's by this test; kube-controller-manager then
 * fills the EndpointSlices. The controller serves metrics on the
 * host's management address, each speaker on its node's.
 */

jest.setTimeout(240_000);
let cp: ControlPlane;
let lab: Lab | undefined;
let prom: Prometheus | undefined;

interface LabPod {
  readonly component: ComponentName;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
}

const PODS: readonly LabPod[] = [
  { component: 'controller', name: 'controller-lab', node: LAB_NODES[0]!.name, ip: MGMT_HOST_IP },
  ...LAB_NODES.map((n) => ({
    component: 'speaker' as const,
    name: speakerPodName(n.name),
    node: n.name,
    ip: n.mgmtIp,
  })),
];

/** The Pods this test writes: the lab writes the speakers' own. */
const PUBLISHED = PODS.filter((p) => p.component !== 'speaker');

/** A Pod as a kubelet would report it: Running and Ready with `ip`. */
async function publishPod(p: LabPod): Promise<void> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: INSTALL_NAMESPACE, labels: selectorLabels(p.component) },
    spec: {
      nodeName: p.node,
      hostNetwork: true,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: COMPONENTS[p.component].container,
          image: `metallb-ts-lab/${p.component}:process`,
          ports: [{ name: MONITORING_PORT_NAME, containerPort: METRICS_PORT, protocol: 'TCP' }],
        },
      ],
    },
  };
  await cp.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    phase: 'Running',
    hostIP: p.ip,
    podIP: p.ip,
    podIPs: [{ ip: p.ip }],
    startTime: now,
    conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
      type,
      status: 'True',
      lastTransitionTime: now,
    })),
  };
  await cp.kubectlOk([
    '-n',
    INSTALL_NAMESPACE,
    'patch',
    'pod',
    p.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** Drops (or stops dropping) the gossip datagrams on a node's management link: it loses its majority. */
async function cutGossip(node: string, op: '-A' | '-D'): Promise<void> {
  for (const [chain, flag] of [
    ['INPUT', '-i'],
    ['OUTPUT', '-o'],
  ] as const) {
    const r = await lab!.nsExec(node, [
      'iptables',
      op,
      chain,
      flag,
      MGMT_IF,
      '-p',
      'udp',
      '--dport',
      String(MEMBERLIST.port),
      '-j',
      'DROP',
    ]);
    if (r.code !== 0) throw new Error(`iptables ${op} ${chain} in ${node}: ${r.stderr}`);
  }
}

async function withContext<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    const targets = prom
      ? JSON.stringify(await prom.targets().catch((t: unknown) => String(t)), null, 2)
      : '';
    const dump = lab ? await lab.dump(20).catch((d: unknown) => String(d)) : 'no lab';
    throw new Error(
      `${e instanceof Error ? e.message : String(e)}\n--- Prometheus targets ---\n${targets}\n--- lab dump ---\n${dump}`,
    );
  }
}

beforeAll(async () => {
  cp = labControlPlane();
  lab = await Lab.start({
    cp,
    componentOptions: { controller: { metricsHost: MGMT_HOST_IP, metricsPort: METRICS_PORT } },
  });
  expect(Object.fromEntries(lab.componentErrors)).toEqual({});
  for (const c of ['controller', 'speaker'] as const)
    await cp.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(metricsService(c, INSTALL_NAMESPACE)) });
  // The lab writes each speaker's Pod itself (its gossip peers are found by them); the controller's
  // is this test's to write.
  for (const p of PUBLISHED) await publishPod(p);
  prom = await startPrometheus({ dir: mkdtempSync(join(cp.dir, 'prometheus-')), cp });
}, 180_000);

afterAll(async () => {
  await prom?.stop();
  await cp.kubectl([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'pods',
    ...PUBLISHED.map((p) => p.name),
    '--ignore-not-found',
  ]);
  await cp.kubectl([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'services',
    COMPONENTS.controller.metricsService,
    COMPONENTS.speaker.metricsService,
    '--ignore-not-found',
  ]);
  await cp.kubectl([
    'delete',
    'namespace',
    PROMETHEUS_SERVICE_ACCOUNT.namespace,
    '--ignore-not-found',
    '--wait=false',
  ]);
  await cp.kubectl([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'role,rolebinding',
    '-l',
    'app.kubernetes.io/component=prometheus-reader',
  ]);
  await lab?.stop();
}, 120_000);

describe('Prometheus with Kubernetes service discovery', () => {
  it('finds the controller and every speaker and scrapes them: up == 1', async () => {
    const up = await withContext(() =>
      waitForComponentsUp(prom!, { controller: true, speakerNodes: LAB_NODES.map((n) => n.name) }),
    );
    expect(
      up.map((s) => [s.metric.job, s.metric.component, s.metric.node, s.metric.pod, s.value]).sort(),
    ).toEqual(
      PODS.map((p) => [COMPONENTS[p.component].metricsService, p.component, p.node, p.name, 1]).sort(),
    );
  });

  it("scrapes each target where its pod serves metrics, labelled as the chart's ServiceMonitor would", async () => {
    const targets = await prom!.targets();
    expect(targets.map((t) => [t.scrapeUrl, t.health, t.labels.namespace, t.labels.endpoint]).sort()).toEqual(
      PODS.map((p) => [
        `http://${p.ip}:${METRICS_PORT}/metrics`,
        'up',
        INSTALL_NAMESPACE,
        MONITORING_PORT_NAME,
      ]).sort(),
    );
  });

  it("reads the demo pool's addresses in use through the HTTP API once the demo Service has one", async () => {
    await applyDemo(cp);
    const samples = await withContext(() =>
      prom!.waitForQuery(
        'metallb_allocator_addresses_in_use_total{pool="demo"}',
        (s) => s.length === 1 && s[0]!.value === 1,
      ),
    );
    expect(samples[0]!.metric).toMatchObject({ job: COMPONENTS.controller.metricsService, pool: 'demo' });
  });

  it("loaded the chart's rules: MetalLBSpeakerFenced is known and inactive while every speaker is alive", async () => {
    const res = await fetch(`${prom!.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.find((r) => r.name === 'MetalLBSpeakerFenced')).toMatchObject({ health: 'ok' });
    const fenced = await withContext(() =>
      prom!.waitForQuery(
        'metallb_ts_speaker_fenced',
        (s) => s.length === LAB_NODES.length && s.every((x) => x.value === 0),
      ),
    );
    expect(fenced.map((s) => s.metric.node).sort()).toEqual(LAB_NODES.map((n) => n.name));
    expect((await prom!.alerts()).filter((a) => a.labels.alertname === 'MetalLBSpeakerFenced')).toEqual([]);
  });

  // Both alerts wait `for: 1m`: one wait covers both conditions.
  it('a filled one-address pool fires MetalLBAddressPoolExhausted with its pool, and a speaker cut off from gossip (metallb_ts_speaker_fenced 1) fires MetalLBSpeakerFenced for its node alone', async () => {
    const cut = LAB_NODES[1]!.name;
    const firing = (a: Alert[], name: string) =>
      a.filter((x) => x.labels.alertname === name && x.state === 'firing');
    await cp.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: filledPoolObjects(),
      }),
    });
    await cutGossip(cut, '-A');
    try {
      await withContext(() =>
        prom!.waitForQuery(
          `metallb_ts_speaker_fenced{node="${cut}"}`,
          (s) => s.length === 1 && s[0]!.value === 1,
        ),
      );
      const alerts = await withContext(() =>
        prom!.waitForAlerts(
          (a) =>
            firing(a, 'MetalLBAddressPoolExhausted').length > 0 &&
            firing(a, 'MetalLBSpeakerFenced').length > 0,
          150_000,
        ),
      );
      expect(
        firing(alerts, 'MetalLBAddressPoolExhausted').map((a) => [
          a.labels.pool,
          a.labels.severity,
          a.annotations.summary,
        ]),
      ).toEqual([['tiny', 'critical', 'IP address pool tiny is exhausted']]);
      expect(
        firing(alerts, 'MetalLBSpeakerFenced').map((a) => [
          a.labels.node,
          a.labels.job,
          a.annotations.summary,
        ]),
      ).toEqual([[cut, COMPONENTS.speaker.metricsService, `The speaker on ${cut} is fenced`]]);
    } finally {
      await cutGossip(cut, '-D');
      await cp.kubectl(['-n', DEMO_NAMESPACE, 'delete', 'service', 'fills-tiny', '--ignore-not-found']);
    }
    await withContext(() =>
      prom!.waitForQuery(
        'metallb_ts_speaker_fenced',
        (s) => s.length === LAB_NODES.length && s.every((x) => x.value === 0),
        60_000,
      ),
    );
  });
});
