// The kubelet lab: the user's path on real parts. A control plane with kube-scheduler, three node
// namespaces each running containerd, a kubelet and kube-proxy, an image registry on the
// management bridge holding our images, then `helm install` of our chart, `MetalLB/metallb`, and
// a demo Service whose backends are real pods.
import { join } from 'node:path';
import { INSTALL_NAMESPACE } from '../cluster-setup.js';
import {
  BACKEND_PORT,
  DEMO_APP_LABEL,
  DEMO_NAMESPACE,
  DEMO_POOL_RANGE,
  demoService,
} from '../cluster-objects.js';
import { MGMT_HOST_IP, startControlPlane, type ControlPlane } from '../control-plane.js';
import { repoRoot } from '../paths.js';
import { pushShippedImages, startRegistry, type PushedImage, type Registry } from '../registry.js';
import { run } from '../run.js';
import { createTopology, DATA_IF } from '../topology.js';
import { waitFor } from '../wait-for.js';
import { missingNodeBinaries } from './binaries.js';
import { killNode, restartNode, startNodes, waitNodesReady } from './nodes.js';
import { labNode } from '../topology.js';
import type { NodePlan } from './node-config.js';

/** The lab registry listens on the management bridge only. */
export const REGISTRY_PORT = 5000;
export const RELEASE = 'metallb-ts';
export const CHART_DIR = join(repoRoot, 'charts', 'metallb-ts');

export interface KubeletLab {
  readonly dir: string;
  readonly cp: ControlPlane;
  readonly registry: Registry;
  /** Every image in the registry, by short name (`operator`, `lab-echo`, ...). */
  readonly images: ReadonlyMap<string, PushedImage>;
  readonly plans: readonly NodePlan[];
}

export interface StartKubeletLabOptions {
  readonly dir: string;
  readonly progress?: (line: string) => void;
}

/** `host:port/repo:tag` → repository and tag (the port's colon is not the tag's). */
export function splitImageRef(ref: string): { repository: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) throw new Error(`image reference ${JSON.stringify(ref)} has no tag`);
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** The image of `name` in the lab registry, or an error naming what the registry holds. */
export function imageOf(lab: Pick<KubeletLab, 'images'>, name: string): PushedImage {
  const image = lab.images.get(name);
  if (!image)
    throw new Error(`no image ${name} in the lab registry; it holds ${[...lab.images.keys()].join(', ')}`);
  return image;
}

/**
 * Starts everything up to Ready nodes: the control plane, the network, the registry with our
 * images, containerd + kubelet + kube-proxy per node. `pnpm images` and
 * `build-lab-images.sh` must have run (the lab CLI runs them).
 */
export async function startKubeletLab(o: StartKubeletLabOptions): Promise<KubeletLab> {
  const progress = o.progress ?? (() => undefined);
  const missing = missingNodeBinaries();
  if (missing.length > 0) throw new Error(`the kubelet lab needs: ${missing.join('; ')}`);
  const cp = await startControlPlane({ dir: o.dir, progress, kubelets: true });
  await createTopology(progress);
  const registry = await startRegistry({ dir: o.dir, address: MGMT_HOST_IP, port: REGISTRY_PORT, progress });
  const pushed = await pushShippedImages(registry);
  progress(`registry ${registry.host}: pushed ${pushed.map((p) => p.ref).join(', ')}`);
  const images = new Map(pushed.map((p) => [p.name, p]));
  const plans = await startNodes({
    dir: o.dir,
    cp,
    registry: registry.host,
    sandboxImage: imageOf({ images }, 'lab-pause').ref,
    progress,
  });
  return { dir: o.dir, cp, registry, images, plans };
}

/** A whole node dies: kubelet, runtime, kube-proxy, every container, and its data link. */
export function killLabNode(lab: KubeletLab, name: string): Promise<void> {
  return killNode(lab.dir, labNode(name));
}

/** The node comes back (data link, containerd, kubelet, kube-proxy) and turns Ready again. */
export async function restartLabNode(lab: KubeletLab, name: string): Promise<void> {
  await restartNode(
    { dir: lab.dir, cp: lab.cp, registry: lab.registry.host, sandboxImage: imageOf(lab, 'lab-pause').ref },
    labNode(name),
  );
  await waitNodesReady(lab.cp, lab.dir);
}

/** The chart values that point every component's image at the lab registry. */
export function registryImageValues(lab: Pick<KubeletLab, 'images'>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const component of ['operator', 'controller', 'speaker']) {
    const { repository, tag } = splitImageRef(imageOf(lab, component).ref);
    values[`${component}.image.repository`] = repository;
    values[`${component}.image.tag`] = tag;
  }
  return values;
}

function helmBin(cp: ControlPlane): string {
  return join(cp.binDir, 'helm');
}

/**
 * `helm install` (or `upgrade`) of our chart from the repository folder, as a user would run it,
 * with the lab registry's images and `extra` values; waits for the operator's rollout.
 */
export async function helmApply(
  lab: Pick<KubeletLab, 'cp' | 'images'>,
  verb: 'install' | 'upgrade',
  extra: Record<string, string> = {},
): Promise<string> {
  const values = { ...registryImageValues(lab), ...extra };
  const argv = [
    helmBin(lab.cp),
    verb,
    RELEASE,
    CHART_DIR,
    '--namespace',
    INSTALL_NAMESPACE,
    ...(verb === 'install' ? ['--create-namespace'] : ['--reuse-values']),
    '--kubeconfig',
    lab.cp.adminKubeconfig,
    '--wait',
    '--timeout',
    '180s',
    ...Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ];
  const r = await run(argv, { timeoutMs: 200_000 });
  if (r.code !== 0) throw new Error(`helm ${verb} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export async function helmUninstall(cp: ControlPlane): Promise<string> {
  const r = await run(
    [
      helmBin(cp),
      'uninstall',
      RELEASE,
      '--namespace',
      INSTALL_NAMESPACE,
      '--kubeconfig',
      cp.adminKubeconfig,
      '--wait',
    ],
    { timeoutMs: 200_000 },
  );
  if (r.code !== 0) throw new Error(`helm uninstall failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** Creates `MetalLB/metallb` and waits until the operator reports `Available=True`. */
export async function applyMetalLB(cp: ControlPlane, timeoutMs = 180_000): Promise<void> {
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'MetalLB',
      metadata: { name: 'metallb', namespace: INSTALL_NAMESPACE },
      spec: { logLevel: 'info' },
    }),
  });
  await waitFor(
    `MetalLB ${INSTALL_NAMESPACE}/metallb Available=True`,
    async () => {
      const out = await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'get', 'metallb', 'metallb', '-o', 'json']);
      const conditions =
        (JSON.parse(out) as { status?: { conditions?: Condition[] } }).status?.conditions ?? [];
      const available = conditions.find((c) => c.type === 'Available');
      if (available?.status === 'True') return { done: true, value: undefined };
      const pods = await cp.kubectl(['-n', INSTALL_NAMESPACE, 'get', 'pods', '-o', 'wide']);
      return { done: false, observed: { conditions, pods: pods.stdout } };
    },
    { timeoutMs, intervalMs: 1_000 },
  );
}

/** Pods of `namespace` matching `selector`, with phase, readiness and node. */
export async function podsOf(
  cp: ControlPlane,
  namespace: string,
  selector: string,
): Promise<{ name: string; node: string; phase: string; ready: boolean; ip: string; restarts: number }[]> {
  const out = await cp.kubectlOk(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json']);
  const list = JSON.parse(out) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { nodeName?: string };
      status: {
        phase?: string;
        podIP?: string;
        conditions?: { type: string; status: string }[];
        containerStatuses?: { restartCount: number }[];
      };
    }[];
  };
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      phase: p.status.phase ?? 'Unknown',
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      ip: p.status.podIP ?? '',
      restarts: (p.status.containerStatuses ?? []).reduce((s, c) => s + c.restartCount, 0),
    }));
}

/** The demo's backends: one echo pod per node, answering `<pod> on <node>`. */
export function demoDeployment(image: string, replicas = 3): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'demo', namespace: DEMO_NAMESPACE },
    spec: {
      replicas,
      selector: { matchLabels: { ...DEMO_APP_LABEL } },
      template: {
        metadata: { labels: { ...DEMO_APP_LABEL } },
        spec: {
          automountServiceAccountToken: false,
          // One per node, so externalTrafficPolicy Local has a local endpoint everywhere.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: { matchLabels: { ...DEMO_APP_LABEL } },
            },
          ],
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'echo',
              image,
              ports: [{ name: 'http', containerPort: BACKEND_PORT }],
              env: [
                { name: 'PORT', value: String(BACKEND_PORT) },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: BACKEND_PORT }, periodSeconds: 2 },
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}

/**
 * The demo on real pods: pool `demo`, an L2Advertisement on the nodes' data links, the echo
 * Deployment and Service demo/demo (LoadBalancer, externalTrafficPolicy Local, so the node that
 * announces is the node whose pod answers).
 */
export async function applyPodDemo(lab: Pick<KubeletLab, 'cp' | 'images'>): Promise<void> {
  const items = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'demo', namespace: INSTALL_NAMESPACE },
      spec: { addresses: [DEMO_POOL_RANGE] },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'L2Advertisement',
      metadata: { name: 'demo', namespace: INSTALL_NAMESPACE },
      spec: { ipAddressPools: ['demo'], interfaces: [DATA_IF] },
    },
    demoDeployment(imageOf(lab, 'lab-echo').ref),
    demoService({ externalTrafficPolicy: 'Local' }),
  ];
  await lab.cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  });
  await waitFor(
    'the demo backends (one echo pod per node) Running and Ready',
    async () => {
      const pods = await podsOf(lab.cp, DEMO_NAMESPACE, 'app=demo');
      const ready = pods.filter((p) => p.ready);
      return ready.length >= 3 ? { done: true, value: undefined } : { done: false, observed: pods };
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
}
