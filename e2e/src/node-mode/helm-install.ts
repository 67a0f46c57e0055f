// Installing the product as a user does: `helm install` of our chart from the repository folder
// with the lab registry's images, then the `MetalLB` resource, waiting for the operator's verdict.
import { join } from 'node:path';
import { INSTALL_NAMESPACE } from '../cluster-setup.js';
import type { ControlPlane } from '../control-plane.js';
import { repoRoot } from '../paths.js';
import { run } from '../run.js';
import { waitFor } from '../wait-for.js';
import { imageOf, splitImageRef, type KubeletLab } from './kubelet-lab.js';

/** The helm release name a user would pick. */
export const RELEASE = 'metallb-ts';
export const CHART_DIR = join(repoRoot, 'charts', 'metallb-ts');

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
