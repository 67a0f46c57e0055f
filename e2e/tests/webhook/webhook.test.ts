import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import {
  COMPONENTS,
  componentRbac,
  LABELS,
  WEBHOOK,
  WEBHOOK_PORT_NAME,
  webhookConfiguration,
  webhookService,
} from '@metallb-ts/manifests';
import {
  applyClusterManifests,
  INSTALL_NAMESPACE,
  waitForDefaultServiceAccount,
} from '../../src/cluster-setup.js';
import {
  freePort,
  logs,
  operatorName,
  startOperator,
  stopComponent,
  waitForOperatorLog,
} from '../../src/components.js';
import { MGMT_HOST_IP, labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { deleteOperatorRbac } from '../../src/operator-lab.js';
import { MGMT_BRIDGE, createTopology, destroyTopology } from '../../src/topology.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * The validating webhook as users get it: the real operator binary (as its own ServiceAccount
 * with the rendered RBAC) serves it, and the rendered Service and ValidatingWebhookConfiguration
 * route the API server to it. The operator makes the certificate Secret and patches the caBundle
 * itself. kube-apiserver runs on the host and calls webhooks at their Service's endpoints
 * (--enable-aggregator-routing), so the test writes what a kubelet would: a Node and a Ready
 * "operator" Pod whose IP is the host's management address and whose webhook port is the one the
 * operator listens on (all addresses).
 */

const NS = INSTALL_NAMESPACE;
const OTHER_NS = 'webhook-e2e-elsewhere';
const VERSION = 'e2e';
const SUITE = 'metallb-ts.e2e/suite';
const LABEL = `${SUITE}=webhook`;
const NODE = 'webhook-e2e-host';
const POD = 'webhook-e2e-operator';

let cp: ControlPlane;
let dir: string;
let webhookPort = 0;
let madeTopology = false;
let operatorStarted = false;

/** `kubectl apply` of YAML or JSON as a user would; never throws. */
const apply = (text: string) => cp.kubectl(['apply', '-f', '-'], { input: text });
const json = (obj: unknown) => JSON.stringify(obj);
/** Server-side apply of rendered objects, as an install would. */
const applyObjects = (objects: unknown[]) =>
  cp.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e', '-f', '-'], {
    input: json({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
const opLog = () => logs(dir, operatorName, 40);

interface SecretObj {
  type: string;
  metadata: { uid: string; labels?: Record<string, string> };
  data: Record<string, string>;
}
const getSecret = async (): Promise<SecretObj | undefined> => {
  const r = await cp.kubectl(['-n', NS, 'get', 'secret', WEBHOOK.certSecret, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as SecretObj) : undefined;
};
const caBundles = async (): Promise<(string | undefined)[]> => {
  const vwc = JSON.parse(
    await cp.kubectlOk(['get', 'validatingwebhookconfiguration', WEBHOOK.configuration, '-o', 'json']),
  ) as { webhooks: { clientConfig: { caBundle?: string } }[] };
  return vwc.webhooks.map((w) => w.clientConfig.caBundle);
};

beforeAll(() => {
  cp = labControlPlane();
  dir = cp.dir;
});

afterAll(async () => {
  if (!cp) return;
  // The configuration first: with failurePolicy Fail and no server, every pool write would be refused.
  await cp.kubectl(['delete', 'validatingwebhookconfiguration', WEBHOOK.configuration, '--ignore-not-found']);
  for (const kind of ['ipaddresspools', 'addresspools', 'l2advertisements'])
    await cp.kubectl(['-n', NS, 'delete', `${kind}.metallb.io`, '-l', LABEL, '--ignore-not-found']);
  // With the operator still running, so it removes what it deployed for MetalLB/metallb.
  await cp.kubectl(['-n', NS, 'delete', 'metallbs.metallb.io', '--all', '--wait=true', '--timeout=60s']);
  if (operatorStarted)
    await waitFor(
      'the operator to remove the components it deployed',
      async () => {
        const left = await cp.kubectl([
          'get',
          'clusterroles',
          '-l',
          `${LABELS.ownerName}=metallb,${LABELS.ownerNamespace}=${NS}`,
          '-o',
          'name',
        ]);
        return left.code === 0 && left.stdout.trim() === ''
          ? { done: true, value: undefined }
          : { done: false, observed: left.stdout + left.stderr };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  await stopComponent(dir, operatorName, 'SIGTERM');
  await cp.kubectl(['delete', 'namespace', OTHER_NS, '--ignore-not-found', '--wait=false']);
  await cp.kubectl(['-n', NS, 'delete', 'service', WEBHOOK.service, '--ignore-not-found']);
  await cp.kubectl(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--ignore-not-found']);
  await cp.kubectl(['-n', NS, 'delete', 'pod', POD, '--ignore-not-found', '--grace-period=0', '--force']);
  await cp.kubectl(['delete', 'node', NODE, '--ignore-not-found']);
  await deleteOperatorRbac(cp, VERSION);
  // The operator took over (and so removed) the lab's controller and speaker accounts and RBAC
  // when it deployed for MetalLB/metallb: the tests after this one need them back.
  if (operatorStarted) await applyClusterManifests(cp);
  if (madeTopology) await destroyTopology();
}, 180_000);

describe('the MetalLB CRD on its own (no webhook)', () => {
  it('refuses bgpBackend with the CEL rule: layer 2 only', async () => {
    const r = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'MetalLB',
        metadata: { name: 'metallb', namespace: NS, labels: { [SUITE]: 'webhook' } },
        spec: { bgpBackend: 'frr' },
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('metallb-ts is layer 2 only');
    expect((await cp.kubectl(['-n', NS, 'get', 'metallb', 'metallb'])).stderr).toMatch(/NotFound|not found/);
  });
});

/** A Node and a Ready Pod on the host's address, so the rendered Service has an endpoint there. */
async function publishEndpoint(): Promise<void> {
  const service = webhookService(NS, VERSION);
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: json({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, labels: { [SUITE]: 'webhook' } },
      spec: {},
    }),
  });
  await waitForDefaultServiceAccount(cp, NS);
  const container = COMPONENTS.operator.container;
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: json({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NS, labels: { ...service.spec.selector, [SUITE]: 'webhook' } },
      spec: {
        nodeName: NODE,
        hostNetwork: true,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: container,
            image: 'metallb-ts-lab/operator:local',
            ports: [{ name: WEBHOOK_PORT_NAME, containerPort: webhookPort, protocol: 'TCP' }],
          },
        ],
      },
    }),
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await cp.kubectlOk([
    '-n',
    NS,
    'patch',
    'pod',
    POD,
    '--subresource=status',
    '--type=merge',
    '-p',
    json({
      status: {
        phase: 'Running',
        hostIP: MGMT_HOST_IP,
        hostIPs: [{ ip: MGMT_HOST_IP }],
        podIP: MGMT_HOST_IP,
        podIPs: [{ ip: MGMT_HOST_IP }],
        startTime: now,
        conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
          type,
          status: 'True',
          lastTransitionTime: now,
        })),
        containerStatuses: [
          {
            name: container,
            image: 'metallb-ts-lab/operator:local',
            imageID: '',
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: now } },
          },
        ],
      },
    }),
  ]);
  await waitFor(
    `an EndpointSlice of Service ${NS}/${WEBHOOK.service} with ${MGMT_HOST_IP}:${webhookPort} ready`,
    async () => {
      const out = JSON.parse(
        await cp.kubectlOk([
          '-n',
          NS,
          'get',
          'endpointslices',
          '-l',
          `kubernetes.io/service-name=${WEBHOOK.service}`,
          '-o',
          'json',
        ]),
      ) as {
        items: {
          ports?: { port?: number }[];
          endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
        }[];
      };
      const ready = out.items.some(
        (s) =>
          (s.ports ?? []).some((p) => p.port === webhookPort) &&
          (s.endpoints ?? []).some(
            (e) => e.addresses.includes(MGMT_HOST_IP) && e.conditions?.ready !== false,
          ),
      );
      return ready ? { done: true, value: undefined } : { done: false, observed: out.items };
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

/** Waits until the API server gets an answer from the webhook (a refused dry run of a bad pool). */
async function waitForWebhookAnswers(what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      const r = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], {
        input: pool('probe', ['203.0.113.20-203.0.113.10']),
      });
      return r.stderr.includes('denied the request')
        ? { done: true, value: undefined }
        : { done: false, observed: { stderr: r.stderr, log: opLog() } };
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

/** Waits until every webhook of the configuration trusts the CA in the Secret; returns the Secret. */
async function waitForCaBundle(what: string, notUid?: string): Promise<SecretObj> {
  return waitFor(
    what,
    async () => {
      const secret = await getSecret();
      const bundles = await caBundles();
      const ok =
        secret !== undefined &&
        secret.metadata.uid !== notUid &&
        bundles.length === 4 &&
        bundles.every((b) => b === secret.data['ca.crt']);
      return ok
        ? { done: true, value: secret }
        : {
            done: false,
            observed: {
              secret: secret?.metadata.uid,
              bundles: bundles.map((b) => b?.slice(0, 16)),
              log: opLog(),
            },
          };
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
}

/** The one line kubectl prints for a webhook refusal, without kubectl's prefix. */
function denial(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.includes('denied the request: '));
  if (!line) throw new Error(`no webhook denial in:\n${stderr}`);
  return line.slice(line.indexOf('denied the request: ') + 'denied the request: '.length).trim();
}

const pool = (name: string, addresses: string[]) =>
  json({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: NS, labels: { [SUITE]: 'webhook' } },
    spec: { addresses },
  });

// The seed's AddressPools (OKD MetalLB Operator documentation: doc-example, -reserved, -ipv6) and
// upstream MetalLB's documented IPAddressPool / L2Advertisement shapes, with documentation addresses.
const EXAMPLES = `
apiVersion: metallb.io/v1alpha1
kind: AddressPool
metadata: {name: doc-example, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  protocol: layer2
  addresses:
  - 192.0.2.1-192.0.2.10
  - 192.0.2.65-192.0.2.75
---
apiVersion: metallb.io/v1beta1
kind: AddressPool
metadata: {name: doc-example-reserved, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  protocol: layer2
  addresses: [192.0.2.128/28]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: AddressPool
metadata: {name: doc-example-ipv6, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  protocol: layer2
  addresses: ["2001:db8:200::1-2001:db8:200::ff"]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: ${NS}, labels: {${SUITE}: webhook, zone: east}}
spec:
  addresses:
  - 198.18.0.0/26
  - 198.18.0.100-198.18.0.110
  - fc00:f853:ccd:e799::/124
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: expensive, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  addresses: [198.18.1.0/30]
  autoAssign: false
  serviceAllocation:
    priority: 50
    namespaces: [team-a, team-b]
    namespaceSelectors:
    - matchLabels: {team: c}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  ipAddressPools: [first-pool, expensive]
  interfaces: [eth0]
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: worker-a}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: by-selector, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  ipAddressPoolSelectors:
  - matchExpressions:
    - {key: zone, operator: In, values: [east, west]}
---
apiVersion: metallb.io/v1beta1
kind: MetalLB
metadata: {name: metallb, namespace: ${NS}, labels: {${SUITE}: webhook}}
spec:
  nodeSelector: {node-role.kubernetes.io/worker: ""}
  speakerTolerations:
  - {key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}
  controllerConfig:
    affinity:
      podAntiAffinity:
        preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm: {topologyKey: kubernetes.io/hostname}
`;

describe('the validating webhook, served by the operator binary', () => {
  beforeAll(async () => {
    if (!existsSync(`/sys/class/net/${MGMT_BRIDGE}`)) {
      await createTopology();
      madeTopology = true;
    }
    // A certificate left by an earlier run must not stand in for the one the operator makes.
    await cp.kubectl(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--ignore-not-found']);
    await applyObjects(componentRbac('operator', NS, VERSION));
    webhookPort = await freePort();
    const r = await startOperator(cp, dir, { webhookPort });
    if (!r.ok) throw new Error(r.error);
    operatorStarted = true;
    await waitForOperatorLog(dir, 'the operator to lead and listen for the webhook', [
      'became leader',
      'webhook server listening',
    ]);
    // What the install applies: the rendered Service and configuration (without a caBundle).
    await applyObjects([webhookService(NS, VERSION), webhookConfiguration(NS, VERSION)]);
    await publishEndpoint();
    await waitForCaBundle('the operator to make the Secret and patch its CA into the configuration');
    await waitForWebhookAnswers('the API server to call the webhook');
  }, 180_000);

  it('the operator made the certificate Secret and wrote its CA into every webhook of the configuration', async () => {
    const secret = (await getSecret())!;
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(secret.metadata.labels?.[LABELS.managedBy]).toBe('metallb-operator');
    expect(await caBundles()).toEqual(Array(4).fill(secret.data['ca.crt']));
  });

  it('refuses a reversed range with one line saying what is wrong', async () => {
    const r = await apply(pool('wh-reversed', ['203.0.113.20-203.0.113.10']));
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toBe(
      'IPAddressPool metallb-system/wh-reversed: spec.addresses[0] "203.0.113.20-203.0.113.10": range start 203.0.113.20 is after end 203.0.113.10',
    );
    expect((await cp.kubectl(['-n', NS, 'get', 'ipaddresspool', 'wh-reversed'])).stderr).toMatch(
      /NotFound|not found/,
    );
  });

  it('refuses a pool overlapping an existing one, naming both pools and the shared range', async () => {
    const base = await apply(pool('wh-base', ['203.0.113.0/28']));
    if (base.code !== 0) throw new Error(`kubectl apply failed:\n${base.stderr}`);
    const r = await apply(pool('wh-overlap', ['203.0.113.10-203.0.113.40']));
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toBe(
      'IPAddressPool metallb-system/wh-overlap: spec.addresses[0] "203.0.113.10-203.0.113.40": overlaps pool "wh-base" (addresses 203.0.113.10-203.0.113.15 are in both pools)',
    );
    // An AddressPool of the other kind with the same name is refused too.
    const same = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'AddressPool',
        metadata: { name: 'wh-base', namespace: NS, labels: { [SUITE]: 'webhook' } },
        spec: { protocol: 'layer2', addresses: ['203.0.113.64/28'] },
      }),
    );
    expect(denial(same.stderr)).toMatch(
      /^AddressPool metallb-system\/wh-base: metadata.name "wh-base": the name is already used by IPAddressPool metallb-system\/wh-base/,
    );
    // Two overlapping pools in one apply: the second is refused (the webhook reads pools live).
    const both = await apply(
      `${pool('wh-first', ['203.0.113.128/28'])}\n---\n${pool('wh-second', ['203.0.113.136'])}`,
    );
    expect(both.stdout).toMatch(/ipaddresspool.metallb.io\/wh-first created/);
    expect(denial(both.stderr)).toBe(
      'IPAddressPool metallb-system/wh-second: spec.addresses[0] "203.0.113.136": overlaps pool "wh-first" (addresses 203.0.113.136 are in both pools)',
    );
    // Updating the pool itself is not an overlap with its own stored version.
    const update = await apply(pool('wh-base', ['203.0.113.0/27']));
    expect(update.code).toBe(0);
  });

  it("accepts the seed's and upstream MetalLB's examples unchanged", async () => {
    const r = await apply(EXAMPLES);
    if (r.code !== 0) throw new Error(`kubectl apply failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    for (const obj of [
      'addresspool.metallb.io/doc-example',
      'addresspool.metallb.io/doc-example-reserved',
      'addresspool.metallb.io/doc-example-ipv6',
      'ipaddresspool.metallb.io/first-pool',
      'ipaddresspool.metallb.io/expensive',
      'l2advertisement.metallb.io/example',
      'l2advertisement.metallb.io/by-selector',
      'metallb.metallb.io/metallb',
    ])
      expect(r.stdout).toMatch(new RegExp(`${obj.replace(/\./g, '\\.')} (created|configured|unchanged)`));
  });

  it('refuses MetalLB settings the pods could not use, and BGP as layer 2 only', async () => {
    const tolerations = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'MetalLB',
        metadata: { name: 'metallb', namespace: NS, labels: { [SUITE]: 'webhook' } },
        spec: {
          speakerTolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
        },
      }),
    );
    expect(denial(tolerations.stderr)).toBe(
      'MetalLB metallb-system/metallb: spec.speakerTolerations[0].tolerationSeconds 30: only allowed with effect NoExecute (effect is "NoSchedule")',
    );
    const bgp = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'MetalLB',
        metadata: { name: 'metallb', namespace: NS, labels: { [SUITE]: 'webhook' } },
        spec: { bgpBackend: 'frr' },
      }),
    );
    expect(bgp.code).not.toBe(0);
    expect(bgp.stderr).toContain('layer 2 only');
  });

  it('refuses a pool in another namespace, naming the install namespace', async () => {
    await cp.kubectlOk(['create', 'namespace', OTHER_NS]);
    const r = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'wh-elsewhere', namespace: OTHER_NS, labels: { [SUITE]: 'webhook' } },
        spec: { addresses: ['203.0.113.200/30'] },
      }),
    );
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toMatch(
      new RegExp(
        `^IPAddressPool ${OTHER_NS}/wh-elsewhere: metadata.namespace.*: metallb-ts only reads IPAddressPool objects in its own namespace "${NS}"$`,
      ),
    );
  });

  it('a deleted certificate Secret is restored within seconds and the webhook keeps answering', async () => {
    const before = (await getSecret())!;
    await cp.kubectlOk(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--wait=true']);
    const after = await waitForCaBundle('a new Secret, its CA in the configuration', before.metadata.uid);
    expect(after.data['tls.crt']).not.toBe(before.data['tls.crt']);
    await waitForWebhookAnswers('the webhook answering with the new certificate');
    const r = await apply(pool('wh-after-repair', ['203.0.113.20-203.0.113.10']));
    expect(denial(r.stderr)).toBe(
      'IPAddressPool metallb-system/wh-after-repair: spec.addresses[0] "203.0.113.20-203.0.113.10": range start 203.0.113.20 is after end 203.0.113.10',
    );
    // MetalLB/metallb exists (the examples made it): the repair is an event on it.
    await waitFor('a Repaired event on MetalLB/metallb', async () => {
      const events = (
        JSON.parse(await cp.kubectlOk(['-n', NS, 'get', 'events', '-o', 'json'])) as {
          items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[];
        }
      ).items.filter((e) => e.involvedObject.kind === 'MetalLB' && e.involvedObject.name === 'metallb');
      return events.some(
        (e) => e.reason === 'Repaired' && e.message === `restored deleted Secret ${NS}/${WEBHOOK.certSecret}`,
      )
        ? { done: true, value: undefined }
        : { done: false, observed: events.map((e) => `${e.reason}: ${e.message}`) };
    });
  }, 90_000);

  it('refuses a bgp AddressPool and a bad L2Advertisement selector', async () => {
    const bgp = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'AddressPool',
        metadata: { name: 'wh-bgp', namespace: NS, labels: { [SUITE]: 'webhook' } },
        spec: { protocol: 'bgp', addresses: ['203.0.113.128/28'] },
      }),
    );
    expect(denial(bgp.stderr)).toBe(
      'AddressPool metallb-system/wh-bgp: spec.protocol "bgp": metallb-ts is layer 2 only; bgp pools are not supported',
    );
    const adv = await apply(
      json({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'L2Advertisement',
        metadata: { name: 'wh-adv', namespace: NS, labels: { [SUITE]: 'webhook' } },
        spec: { nodeSelectors: [{ matchLabels: { 'bad key': 'x' } }] },
      }),
    );
    expect(denial(adv.stderr)).toMatch(
      /^L2Advertisement metallb-system\/wh-adv: spec.nodeSelectors\[0\].matchLabels.bad key "bad key": invalid label key/,
    );
  });
});
