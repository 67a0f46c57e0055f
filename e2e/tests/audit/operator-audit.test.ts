import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  COMPONENTS,
  compareUsage,
  componentRbac,
  describeUsage,
  exercises,
  grantsOf,
  OPERATOR_OWN_RULES,
  OPERATOR_RULES,
  WEBHOOK,
} from '@metallb-ts/manifests';
import { readAuditLog, serviceAccountUser } from '../../src/audit.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import {
  logs,
  operatorName,
  startOperator,
  stopComponent,
  waitForOperatorLog,
} from '../../src/components.js';
import { attachControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { operatorDeployment, restoreLabRbac } from '../../src/operator-lab.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * Least privilege for the operator (issue 12, item 4), as for the controller and the speaker in
 * audit.test.ts: the real operator runs as its ServiceAccount with its generated RBAC through its
 * main job — a MetalLB resource becomes the components' workloads, accounts and RBAC, every kind
 * it made is deleted behind its back and restored, an edit rolls the workloads, the MetalLB
 * resource is deleted and everything goes, and the operator stops (handing its Lease back).
 * The API server audits every request, and the operator's own rules (OPERATOR_OWN_RULES) are
 * compared with what it used: a grant never used fails unless its rule says why, and so does a
 * refused request or a request only the rules it holds to pass on to the components allowed.
 * Those rules (OPERATOR_RULES beyond its own) are not its to use: Kubernetes lets it create a
 * Role only with the permissions the Role grants, so the comparison leaves them out by name.
 */

jest.setTimeout(240_000);
const NS = INSTALL_NAMESPACE;
const VERSION = 'e2e-audit';
let cp: ControlPlane;
let dir: string;
let startedMs = 0;

const apply = (objects: unknown[]) =>
  cp.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
const opLog = () => logs(dir, operatorName, 40);

/** Everything MetalLB/metallb becomes, as kubectl names it (`kind/name`, namespaced then cluster). */
const MADE = {
  namespaced: [
    `deployment/${COMPONENTS.controller.workload}`,
    `daemonset/${COMPONENTS.speaker.workload}`,
    `serviceaccount/${COMPONENTS.controller.serviceAccount}`,
    `serviceaccount/${COMPONENTS.speaker.serviceAccount}`,
    `service/${COMPONENTS.controller.metricsService}`,
    `service/${COMPONENTS.speaker.metricsService}`,
    `role/${COMPONENTS.controller.role}`,
    `role/${COMPONENTS.speaker.role}`,
    `rolebinding/${COMPONENTS.controller.role}`,
    `rolebinding/${COMPONENTS.speaker.role}`,
  ],
  cluster: [
    `clusterrole/${COMPONENTS.controller.clusterRole}`,
    `clusterrole/${COMPONENTS.speaker.clusterRole}`,
    `clusterrolebinding/${COMPONENTS.controller.clusterRole}`,
    `clusterrolebinding/${COMPONENTS.speaker.clusterRole}`,
  ],
};

/** uid per `kind/name` of what exists now among `names` (namespaced ones in NS). */
async function uids(names: readonly string[], namespaced: boolean): Promise<Map<string, string>> {
  const r = await cp.kubectl([
    ...(namespaced ? ['-n', NS] : []),
    'get',
    ...names,
    '--ignore-not-found',
    '-o',
    'jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.uid}{"\\n"}{end}',
  ]);
  if (r.code !== 0) throw new Error(`kubectl get ${names.join(' ')}: ${r.stderr}`);
  return new Map(
    r.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const [kindName, uid] = l.split(' ');
        return [kindName!.toLowerCase(), uid!] as const;
      }),
  );
}

async function everything(): Promise<Map<string, string>> {
  return new Map([...(await uids(MADE.namespaced, true)), ...(await uids(MADE.cluster, false))]);
}

/** Waits until `cond` holds for what exists of MADE; shows what exists and the operator's log. */
async function waitMade(what: string, cond: (now: Map<string, string>) => boolean): Promise<void> {
  await waitFor(
    what,
    async () => {
      const now = await everything();
      return cond(now)
        ? { done: true, value: undefined }
        : { done: false, observed: { exists: [...now.keys()], log: opLog() } };
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

const all = [...MADE.namespaced, ...MADE.cluster];

beforeAll(async () => {
  const d = process.env.METALLB_TS_LAB_DIR;
  if (!d) throw new Error('METALLB_TS_LAB_DIR is not set: run through pnpm test:e2e');
  dir = d;
  cp = attachControlPlane({ dir });
  await cp.kubectl(['-n', NS, 'delete', 'metallbs.metallb.io', '--all', '--wait=true', '--timeout=60s']);
  await apply(componentRbac('operator', NS, VERSION));
  await apply([operatorDeployment]);
  // Only what the operator does from its start on counts.
  startedMs = Date.now();
  const r = await startOperator(cp, dir, { controllerImage: 'ctl:e2e', speakerImage: 'spk:e2e' });
  if (!r.ok) throw new Error(r.error);
  await waitForOperatorLog(dir, 'the operator to report ready as leader', [
    'became leader',
    'operator started',
  ]);
}, 120_000);

afterAll(async () => {
  if (!cp) return;
  await cp.kubectl(['-n', NS, 'delete', 'metallbs.metallb.io', '--all', '--wait=true', '--timeout=60s']);
  await stopComponent(dir, operatorName, 'SIGTERM');
  await cp.kubectl(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--ignore-not-found']);
  await cp.kubectl(['-n', NS, 'delete', 'deployment', COMPONENTS.operator.workload, '--ignore-not-found']);
  await restoreLabRbac(cp, VERSION);
}, 150_000);

describe('least privilege: the operator', () => {
  it('uses every permission of its own rules through its main job, and none is refused', async () => {
    await apply([
      { apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', metadata: { name: 'metallb', namespace: NS } },
    ]);
    await waitMade('every component object made for MetalLB/metallb', (now) => all.every((n) => now.has(n)));

    // Drift: each kind it made, deleted behind its back, comes back (a new object).
    const before = await everything();
    const victims = [
      `daemonset/${COMPONENTS.speaker.workload}`,
      `deployment/${COMPONENTS.controller.workload}`,
      `serviceaccount/${COMPONENTS.speaker.serviceAccount}`,
      `service/${COMPONENTS.controller.metricsService}`,
      `role/${COMPONENTS.speaker.role}`,
      `rolebinding/${COMPONENTS.controller.role}`,
    ];
    const clusterVictims = [
      `clusterrole/${COMPONENTS.speaker.clusterRole}`,
      `clusterrolebinding/${COMPONENTS.controller.clusterRole}`,
    ];
    await cp.kubectlOk(['-n', NS, 'delete', ...victims, '--wait=true']);
    await cp.kubectlOk(['delete', ...clusterVictims, '--wait=true']);
    await waitMade('every deleted object restored', (now) =>
      [...victims, ...clusterVictims].every((n) => now.has(n) && now.get(n) !== before.get(n)),
    );

    // An edit of the MetalLB resource rolls both workloads.
    await cp.kubectlOk([
      '-n',
      NS,
      'patch',
      'metallb',
      'metallb',
      '--type=merge',
      '-p',
      '{"spec":{"logLevel":"debug"}}',
    ]);
    await waitFor(
      'LOG_LEVEL=debug in the controller Deployment and the speaker DaemonSet',
      async () => {
        const r = await cp.kubectl([
          '-n',
          NS,
          'get',
          `deployment/${COMPONENTS.controller.workload}`,
          `daemonset/${COMPONENTS.speaker.workload}`,
          '-o',
          'jsonpath={range .items[*]}{.spec.template.spec.containers[0].env[?(@.name=="LOG_LEVEL")].value} {end}',
        ]);
        return r.stdout.trim() === 'debug debug'
          ? { done: true, value: undefined }
          : { done: false, observed: { got: r.stdout, log: opLog() } };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // Deleted: the cluster-scoped objects go by the operator's hand, the rest with their owner.
    await cp.kubectlOk(['-n', NS, 'delete', 'metallb', 'metallb', '--wait=true']);
    await waitMade('nothing left of MetalLB/metallb', (now) => now.size === 0);

    // Stopped as a rollout stops it: it hands its Lease back.
    await stopComponent(dir, operatorName, 'SIGTERM');

    const user = serviceAccountUser(NS, COMPONENTS.operator.serviceAccount);
    const mine = readAuditLog(cp.auditLog, startedMs).filter((u) => u.user === user);
    expect(mine.length).toBeGreaterThan(0);
    const report = compareUsage(OPERATOR_OWN_RULES, mine, NS);
    // A request only the rules it holds to pass on allowed: its own rules miss it.
    const toPassOn = grantsOf(OPERATOR_RULES);
    const borrowed = report.ungranted.filter((u) => toPassOn.some((g) => exercises(g, u, NS)));
    const lines = [
      `operator: ${mine.length} requests audited`,
      ...describeUsage('operator', report),
      ...borrowed.map(
        (u) =>
          `operator: used but only held to grant the components: ${u.verb} ${u.group || 'core'}/${u.resource}`,
      ),
    ];
    console.log(`least privilege, the operator's ServiceAccount:\n${lines.join('\n')}`);
    const failures = report.unused.length + report.refused.length + borrowed.length;
    expect({ failures, lines }).toEqual({ failures: 0, lines });
  });
});
