import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_NAMESPACE } from '@metallb-ts/manifests';
import type { ControlPlane } from './control-plane.js';
import { repoRoot } from './paths.js';
import { waitFor } from './wait-for.js';

/** The lab installs where MetalLB does (config/rbac is generated for this namespace). */
export const INSTALL_NAMESPACE = DEFAULT_NAMESPACE;
export const crdDir = join(repoRoot, 'config', 'crds');
export const rbacDir = join(repoRoot, 'config', 'rbac');

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Applies the CRDs (`config/crds/*.yaml`, when that folder exists) and waits until they are
 * served, then the namespace and the controller's and speaker's RBAC (`config/rbac/*.yaml`).
 * Both are generated from packages/manifests. Returns the names of the files applied.
 */
export async function applyClusterManifests(
  cp: ControlPlane,
  progress: (line: string) => void = () => undefined,
): Promise<string[]> {
  const applied: string[] = [];
  const crds = yamlFiles(crdDir);
  if (crds.length === 0) progress(`cluster: no CRDs yet (${crdDir} missing or empty)`);
  for (const file of crds) {
    await cp.kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', file]);
    applied.push(file);
  }
  if (crds.length > 0) {
    progress(`cluster: ${crds.length} CRD file(s) applied; waiting until established`);
    await cp.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all'], {
      timeoutMs: 70_000,
    });
  }
  for (const file of yamlFiles(rbacDir)) {
    await cp.kubectlOk(['apply', '-f', file]);
    applied.push(file);
  }
  progress(`cluster: RBAC applied (${rbacDir})`);
  return applied;
}

/** Waits for the ServiceAccount controller to have made `default` in `namespace` (pods need it). */
export async function waitForDefaultServiceAccount(cp: ControlPlane, namespace: string): Promise<void> {
  await waitFor(
    `ServiceAccount ${namespace}/default`,
    async () => {
      const r = await cp.apiGet(`/api/v1/namespaces/${namespace}/serviceaccounts/default`);
      return r.status === 200 ? { done: true, value: undefined } : { done: false, observed: r.status };
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}
