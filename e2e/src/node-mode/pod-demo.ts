// The demo on real pods: a pool, an L2Advertisement on the data links, one echo pod per node and
// a LoadBalancer Service in front of them.
import {
  BACKEND_PORT,
  DEMO_APP_LABEL,
  DEMO_NAMESPACE,
  demoPoolObjects,
  demoService,
} from '../cluster-objects.js';
import type { ControlPlane } from '../control-plane.js';
import { DATA_IF } from '../topology.js';
import { waitFor } from '../wait-for.js';
import { imageOf, type KubeletLab } from './kubelet-lab.js';

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
    ...demoPoolObjects([DATA_IF]),
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
