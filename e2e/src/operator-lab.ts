// What a lab test needs around the operator process: the stand-in for the chart's Deployment it
// reads at start, and putting the lab's controller and speaker accounts back after it took them
// over (they carry the same names).
import { COMPONENTS, componentRbac, LEASES } from '@metallb-ts/manifests';
import { applyClusterManifests, INSTALL_NAMESPACE } from './cluster-setup.js';
import { applyJson } from './cluster-objects.js';
import { startOperator, waitForOperatorLog } from './components.js';
import type { ControlPlane } from './control-plane.js';
import { waitFor } from './wait-for.js';

/**
 * Named as the chart names the operator's Deployment, scaled to zero (the operator runs as a
 * process): the operator reads it at start and makes it the owner of its Lease and webhook
 * certificate Secret.
 */
export const operatorDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: COMPONENTS.operator.workload, namespace: INSTALL_NAMESPACE },
  spec: {
    replicas: 0,
    selector: { matchLabels: { 'e2e.metallb-ts/stand-in': 'operator' } },
    template: {
      metadata: { labels: { 'e2e.metallb-ts/stand-in': 'operator' } },
      spec: { containers: [{ name: 'operator', image: 'registry.invalid/operator:e2e' }] },
    },
  },
};

/**
 * Starts the operator process the way the chart runs it: no MetalLB left from an earlier test, its
 * own ServiceAccount and RBAC (`version`, from the one source) and the Deployment stand-in in
 * place. `beforeStart` runs just before the process starts (e.g. to mark where an audit begins).
 * Resolves once it leads and reports ready.
 */
export async function startLabOperator(
  cp: ControlPlane,
  dir: string,
  version: string,
  beforeStart: () => Promise<void> = async () => undefined,
): Promise<void> {
  const ns = INSTALL_NAMESPACE;
  await cp.kubectl(['-n', ns, 'delete', 'metallbs.metallb.io', '--all', '--wait=false']);
  // One an earlier test left behind with no operator running would wait for ever on the
  // operator's finalizer: released by hand, as the chart's notes tell a user to.
  const held = await cp.kubectl(['-n', ns, 'get', 'metallbs.metallb.io', '-o', 'name']);
  for (const name of held.stdout.split('\n').filter((l) => l.trim() !== ''))
    await cp.kubectl(['-n', ns, 'patch', name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await cp.kubectl(['-n', ns, 'delete', 'metallbs.metallb.io', '--all', '--wait=true', '--timeout=60s']);
  // An earlier operator's Lease would make this one take it over instead of creating it: each
  // start begins from what a fresh install has (the least-privilege audit counts the create).
  await cp.kubectl(['-n', ns, 'delete', 'lease', LEASES.operator, '--ignore-not-found']);
  await applyJson(cp, [...componentRbac('operator', ns, version), operatorDeployment]);
  await beforeStart();
  const r = await startOperator(cp, dir, { controllerImage: 'ctl:e2e', speakerImage: 'spk:e2e' });
  if (!r.ok) throw new Error(r.error);
  await waitForOperatorLog(dir, 'the operator to report ready (/readyz) as leader', [
    'became leader',
    'operator started',
  ]);
}

/** Sets spec.logLevel of MetalLB/metallb with a merge patch, as a user's `kubectl patch` does. */
export async function setMetalLBLogLevel(cp: ControlPlane, level: string): Promise<void> {
  const patch = JSON.stringify({ spec: { logLevel: level } });
  await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'patch', 'metallb', 'metallb', '--type=merge', '-p', patch]);
}

/**
 * Applies the lab's controller and speaker accounts and RBAC again (the operator removed them
 * with its MetalLB resource), waits until they are back, then removes the operator's own
 * ServiceAccount and RBAC (`version` as applied).
 */
export async function restoreLabRbac(cp: ControlPlane, version: string): Promise<void> {
  const ns = INSTALL_NAMESPACE;
  await applyClusterManifests(cp);
  await waitFor("the lab's controller and speaker accounts and RBAC back", async () => {
    const back = await cp.kubectl([
      '-n',
      ns,
      'get',
      `serviceaccount/${COMPONENTS.controller.serviceAccount}`,
      `serviceaccount/${COMPONENTS.speaker.serviceAccount}`,
      `clusterrole/${COMPONENTS.controller.clusterRole}`,
      `clusterrole/${COMPONENTS.speaker.clusterRole}`,
      '-o',
      'name',
    ]);
    return back.code === 0 ? { done: true, value: undefined } : { done: false, observed: back.stderr };
  });
  await deleteOperatorRbac(cp, version);
}

/** Removes the operator's own ServiceAccount and RBAC (`version` as applied), bindings first. */
export async function deleteOperatorRbac(cp: ControlPlane, version: string): Promise<void> {
  const ns = INSTALL_NAMESPACE;
  for (const o of [...componentRbac('operator', ns, version)].reverse())
    await cp.kubectl([
      'delete',
      o.kind.toLowerCase(),
      o.metadata.name,
      ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []),
      '--ignore-not-found',
    ]);
}
