import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { connect, silentLogger, type Kube } from '@metallb-ts/k8s-runtime';
import { crds } from '@metallb-ts/api';
import { APP_NAME, LABELS, WEBHOOK, WEBHOOK_PATHS } from '@metallb-ts/manifests';
import {
  WebhookCertReconciler,
  createWebhookServer,
  poolsFromApi,
  type WebhookServer,
} from '@metallb-ts/operator/webhook';
import { INSTALL_NAMESPACE, waitForDefaultServiceAccount } from '../../src/cluster-setup.js';
import { MGMT_HOST_IP, attachControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { MGMT_BRIDGE, createTopology, destroyTopology } from '../../src/topology.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * The validating webhook against the real API server. kube-apiserver runs on the host and calls
 * webhooks at their Service's endpoints (--enable-aggregator-routing), so the test writes what a
 * kubelet would: a Node and a Ready "operator" Pod whose IP is the host's management address, and
 * serves the webhook from this process on that address. Certificates come from the operator's
 * reconciler (Secret + caBundle), as in a cluster. Until the manifests renderer exists the Service
 * and the ValidatingWebhookConfiguration are built here from the same names.
 */

const NS = INSTALL_NAMESPACE;
const SUITE = 'metallb-ts.e2e/suite';
const LABEL = `${SUITE}=webhook`;
const NODE = 'webhook-e2e-host';
const POD = 'webhook-e2e-operator';
const SELECTOR = { [LABELS.name]: APP_NAME, [LABELS.component]: 'operator' };
/** Kind -> plural, from the CRDs themselves. */
const PLURAL = new Map(
  crds().map((c) => {
    const names = (c as { spec: { names: { kind: string; plural: string } } }).spec.names;
    return [names.kind, names.plural];
  }),
);

let cp: ControlPlane;
let kube: Kube | undefined;
let server: WebhookServer | undefined;
let madeTopology = false;

/** `kubectl apply` of YAML or JSON as a user would; never throws. */
const apply = (text: string) => cp.kubectl(['apply', '-f', '-'], { input: text });
const json = (obj: unknown) => JSON.stringify(obj);

beforeAll(() => {
  const dir = process.env.METALLB_TS_LAB_DIR;
  if (!dir)
    throw new Error(
      'METALLB_TS_LAB_DIR is not set: run through pnpm test:e2e (jest global set-up starts the control plane)',
    );
  cp = attachControlPlane({ dir });
});

afterAll(async () => {
  // The configuration first: with failurePolicy Fail and no server, every pool write would be refused.
  await cp?.kubectl([
    'delete',
    'validatingwebhookconfiguration',
    WEBHOOK.configuration,
    '--ignore-not-found',
  ]);
  await server?.close();
  kube?.close();
  for (const kind of ['ipaddresspools', 'addresspools', 'l2advertisements', 'metallbs'])
    await cp?.kubectl(['-n', NS, 'delete', `${kind}.metallb.io`, '-l', LABEL, '--ignore-not-found']);
  await cp?.kubectl(['-n', NS, 'delete', 'service', WEBHOOK.service, '--ignore-not-found']);
  await cp?.kubectl(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--ignore-not-found']);
  await cp?.kubectl(['-n', NS, 'delete', 'pod', POD, '--ignore-not-found', '--grace-period=0', '--force']);
  await cp?.kubectl(['delete', 'node', NODE, '--ignore-not-found']);
  if (madeTopology) await destroyTopology();
}, 120_000);

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

/** The Service, a Node and a Ready Pod on the host's address, so the API server finds the webhook. */
async function publishEndpoint(): Promise<void> {
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: json({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: NODE, labels: { [SUITE]: 'webhook' } },
          spec: {},
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: WEBHOOK.service, namespace: NS, labels: { [SUITE]: 'webhook' } },
          spec: {
            selector: SELECTOR,
            ports: [
              { name: 'webhook', port: WEBHOOK.servicePort, targetPort: WEBHOOK.port, protocol: 'TCP' },
            ],
          },
        },
      ],
    }),
  });
  await waitForDefaultServiceAccount(cp, NS);
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: json({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NS, labels: { ...SELECTOR, [SUITE]: 'webhook' } },
      spec: {
        nodeName: NODE,
        hostNetwork: true,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'operator',
            image: 'metallb-ts-lab/operator:local',
            ports: [{ name: 'webhook', containerPort: WEBHOOK.port, protocol: 'TCP' }],
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
            name: 'operator',
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
    `an EndpointSlice of Service ${NS}/${WEBHOOK.service} with ${MGMT_HOST_IP} ready`,
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
      ) as { items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[] };
      const ready = out.items.some((s) =>
        (s.endpoints ?? []).some((e) => e.addresses.includes(MGMT_HOST_IP) && e.conditions?.ready !== false),
      );
      return ready ? { done: true, value: undefined } : { done: false, observed: out.items };
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

function webhookConfiguration(): unknown {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: WEBHOOK.configuration, labels: { [SUITE]: 'webhook' } },
    webhooks: Object.entries(WEBHOOK_PATHS).map(([kind, path]) => ({
      name: `${PLURAL.get(kind)!}.metallb.io`,
      clientConfig: { service: { name: WEBHOOK.service, namespace: NS, path, port: WEBHOOK.servicePort } },
      rules: [
        {
          apiGroups: ['metallb.io'],
          apiVersions: ['v1beta1', 'v1alpha1'],
          operations: ['CREATE', 'UPDATE'],
          resources: [PLURAL.get(kind)!],
          scope: 'Namespaced',
        },
      ],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } },
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 10,
    })),
  };
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

describe('the validating webhook, served by the operator code', () => {
  beforeAll(async () => {
    if (!existsSync(`/sys/class/net/${MGMT_BRIDGE}`)) {
      await createTopology();
      madeTopology = true;
    }
    kube = connect({ kubeconfig: cp.adminKubeconfig, logger: silentLogger });
    const k = kube;

    const reconciler = new WebhookCertReconciler({ kube: k, namespace: NS, logger: silentLogger });
    const first = await reconciler.reconcile();
    expect(first.secret.action).toBe('created');
    server = createWebhookServer({
      namespace: NS,
      listPools: poolsFromApi(k, NS),
      logger: silentLogger,
      host: MGMT_HOST_IP,
      port: WEBHOOK.port,
      certificate: first.bundle,
    });
    await server.listen();
    await publishEndpoint();
    await cp.kubectlOk(['apply', '-f', '-'], { input: json(webhookConfiguration()) });
    const second = await reconciler.reconcile();
    expect(second.secret.action).toBe('unchanged');
    expect(second.patchedWebhooks).toHaveLength(4);

    // The API server picks the configuration up within a moment: a dry run of a bad pool shows it.
    await waitFor(
      'the API server to call the webhook',
      async () => {
        const r = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], {
          input: pool('probe', ['203.0.113.20-203.0.113.10']),
        });
        return r.stderr.includes('denied the request')
          ? { done: true, value: undefined }
          : { done: false, observed: r.stderr };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }, 180_000);

  it('stores the certificate in the Secret and its CA in every webhook of the configuration', async () => {
    const secret = JSON.parse(
      await cp.kubectlOk(['-n', NS, 'get', 'secret', WEBHOOK.certSecret, '-o', 'json']),
    ) as {
      type: string;
      data: Record<string, string>;
    };
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const vwc = JSON.parse(
      await cp.kubectlOk(['get', 'validatingwebhookconfiguration', WEBHOOK.configuration, '-o', 'json']),
    ) as { webhooks: { clientConfig: { caBundle: string } }[] };
    expect(vwc.webhooks.map((w) => w.clientConfig.caBundle)).toEqual(Array(4).fill(secret.data['ca.crt']));
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
