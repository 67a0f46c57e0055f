import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  COMPONENTS,
  compareUsage,
  describeUsage,
  exercises,
  grantsOf,
  APP_NAME,
  FIELD_MANAGERS,
  LABELS,
  OPERATOR_OWN_RULES,
  OPERATOR_RULES,
  WEBHOOK,
  webhookConfiguration,
} from '@metallb-ts/manifests';
import { readAuditLog, serviceAccountUser } from '../../src/audit.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { logs, operatorName, stopComponent } from '../../src/components.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { restoreLabRbac, setMetalLBLogLevel, startLabOperator } from '../../src/operator-lab.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * Least privilege for the operator (issue 12, item 4), as for the controller and the speaker in
 * audit.test.ts: the real operator runs as its ServiceAccount with its generated RBAC through its
 * main job — a MetalLB resource becomes the components' workloads, accounts and RBAC (none of
 * them there before, as on a fresh install), every object it made is deleted behind its back and
 * restored (the DaemonSet twice: a repeated event), and edited and put back, a second MetalLB is
 * reported wrongly named, what
 * an earlier version applied and this one no longer renders is deleted, a damaged webhook
 * certificate is replaced and its CA bundle patched into the webhook configuration, an edit
 * rolls the workloads, the MetalLB resource is deleted and everything goes, and the operator
 * stops (handing its Lease back).
 * The API server audits every request, and the operator's own rules (OPERATOR_OWN_RULES) are
 * compared with what it used: a grant never used fails unless its rule says why, and so does a
 * refused request or a request only the rules it holds to pass on to the components allowed.
 * Rules limited by name are compared per name (each object it renders must have been created,
 * read and patched), and a rule granting every name that it used for one object fails unless the
 * rule says why.
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

/** The `app.kubernetes.io/part-of` label per `kind/name` of what exists now among `names`. */
async function partOf(names: readonly string[], namespaced: boolean): Promise<Map<string, string>> {
  const out = await cp.kubectlOk([
    ...(namespaced ? ['-n', NS] : []),
    'get',
    ...names,
    '-o',
    `jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.labels.${LABELS.partOf.replaceAll('.', '\\.')}}{"\\n"}{end}`,
  ]);
  return new Map(
    out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const [kindName, value] = l.split(' ');
        return [kindName!.toLowerCase(), value ?? ''] as const;
      }),
  );
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

/**
 * The webhook configuration the install applies, made harmless for the rest of the run: it
 * selects no object (and would be ignored if it failed), so the API server never calls it; the
 * operator still owns its CA bundle.
 */
const inertWebhookConfiguration = () => {
  const vwc = webhookConfiguration(NS);
  return {
    ...vwc,
    webhooks: vwc.webhooks.map((w) => ({
      ...w,
      failurePolicy: 'Ignore',
      objectSelector: { matchLabels: { 'e2e.metallb-ts/never': 'selected' } },
    })),
  };
};

const LEFTOVER = 'metallb-ts-audit-leftover';
/** One object of each namespaced kind the operator watches, as an earlier version would have applied it. */
function leftovers(uid: string): Record<string, unknown>[] {
  const metadata = {
    name: LEFTOVER,
    namespace: NS,
    labels: { [LABELS.name]: APP_NAME, 'e2e.metallb-ts/leftover': 'yes' },
    ownerReferences: [{ apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', name: 'metallb', uid }],
  };
  const selector = { matchLabels: { 'e2e.metallb-ts/leftover': 'yes' } };
  const template = {
    metadata: { labels: selector.matchLabels },
    spec: {
      nodeSelector: { 'e2e.metallb-ts/no-such-node': 'yes' },
      containers: [{ name: 'old', image: 'registry.invalid/old:e2e' }],
    },
  };
  return [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec: { replicas: 0, selector, template } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata, spec: { selector, template } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    { apiVersion: 'v1', kind: 'Service', metadata, spec: { ports: [{ port: 7472 }] } },
    { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data: {} },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: [] },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: LEFTOVER },
      subjects: [],
    },
  ];
}
const LEFTOVER_KINDS = 'deployment,daemonset,serviceaccount,service,secret,role,rolebinding';

/** The CA bundles in the webhook configuration, one per webhook ('' where none is set). */
async function caBundles(): Promise<string[]> {
  const r = await cp.kubectlOk([
    'get',
    'validatingwebhookconfiguration',
    WEBHOOK.configuration,
    '-o',
    'jsonpath={range .webhooks[*]}[{.clientConfig.caBundle}]{end}',
  ]);
  return [...r.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
}

async function certificate(): Promise<string> {
  return cp.kubectlOk(['-n', NS, 'get', 'secret', WEBHOOK.certSecret, '-o', 'jsonpath={.data.tls\\.crt}']);
}

beforeAll(async () => {
  cp = labControlPlane();
  dir = cp.dir;
  await startLabOperator(cp, dir, VERSION, async () => {
    await apply([inertWebhookConfiguration()]);
    // As on a fresh install, none of what it renders exists (the lab's controller and speaker
    // accounts and RBAC go; restoreLabRbac puts them back): it creates every object by name.
    await cp.kubectlOk(['-n', NS, 'delete', ...MADE.namespaced, '--ignore-not-found', '--wait=true']);
    await cp.kubectlOk(['delete', ...MADE.cluster, '--ignore-not-found', '--wait=true']);
    // Only what the operator does from its start on counts.
    startedMs = Date.now();
  });
}, 120_000);

afterAll(async () => {
  if (!cp) return;
  await cp.kubectl(['-n', NS, 'delete', 'metallbs.metallb.io', '--all', '--wait=true', '--timeout=60s']);
  await stopComponent(dir, operatorName, 'SIGTERM');
  await cp.kubectl(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--ignore-not-found']);
  await cp.kubectl(['-n', NS, 'delete', 'deployment', COMPONENTS.operator.workload, '--ignore-not-found']);
  await cp.kubectl(['delete', 'validatingwebhookconfiguration', WEBHOOK.configuration, '--ignore-not-found']);
  await cp.kubectl([
    '-n',
    NS,
    'delete',
    LEFTOVER_KINDS,
    '-l',
    'e2e.metallb-ts/leftover=yes',
    '--ignore-not-found',
  ]);
  await restoreLabRbac(cp, VERSION);
}, 150_000);

describe('least privilege: the operator', () => {
  it('uses every permission of its own rules through its main job, and none is refused', async () => {
    await apply([
      { apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', metadata: { name: 'metallb', namespace: NS } },
    ]);
    await waitMade('every component object made for MetalLB/metallb', (now) => all.every((n) => now.has(n)));
    const uid = await cp.kubectlOk(['-n', NS, 'get', 'metallb', 'metallb', '-o', 'jsonpath={.metadata.uid}']);

    // Its webhook certificate's CA is in every webhook of the configuration.
    await waitFor(
      'the CA bundle in every webhook of the configuration',
      async () => {
        const b = await caBundles();
        return b.length > 0 && b.every((x) => x !== '')
          ? { done: true, value: undefined }
          : { done: false, observed: { bundles: b.length, log: opLog() } };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // A damaged certificate Secret is replaced (and reported on the MetalLB resource).
    const good = await certificate();
    const damaged = Buffer.from('not a certificate').toString('base64');
    await cp.kubectlOk([
      '-n',
      NS,
      'patch',
      'secret',
      WEBHOOK.certSecret,
      '--type=merge',
      '-p',
      JSON.stringify({ data: { 'tls.crt': damaged } }),
    ]);
    await waitFor(
      'the damaged webhook certificate replaced',
      async () => {
        const now = await certificate();
        return now !== damaged && now !== good && now !== ''
          ? { done: true, value: undefined }
          : { done: false, observed: { same: now === damaged, log: opLog() } };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // What an earlier version applied and this one does not render is deleted.
    await cp.kubectlOk(
      [
        'apply',
        '--server-side',
        '--force-conflicts',
        `--field-manager=${FIELD_MANAGERS.operator}`,
        '-f',
        '-',
      ],
      { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: leftovers(uid) }) },
    );
    await waitFor(
      'the leftovers of an earlier version deleted',
      async () => {
        const r = await cp.kubectlOk([
          '-n',
          NS,
          'get',
          LEFTOVER_KINDS,
          '-l',
          'e2e.metallb-ts/leftover=yes',
          '-o',
          'name',
        ]);
        return r.trim() === ''
          ? { done: true, value: undefined }
          : { done: false, observed: { left: r, log: opLog() } };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

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
    // The same repair again: the same event, counted.
    const ds = `daemonset/${COMPONENTS.speaker.workload}`;
    const restored = (await everything()).get(ds);
    await cp.kubectlOk(['-n', NS, 'delete', ds, '--wait=true']);
    await waitMade('the DaemonSet restored again', (now) => now.has(ds) && now.get(ds) !== restored);
    await waitFor(
      'the repeated repair counted on one event',
      async () => {
        // This MetalLB's events only (an earlier test's MetalLB had a repair with the same message).
        const counts = await cp.kubectlOk([
          '-n',
          NS,
          'get',
          'events',
          '--field-selector',
          `involvedObject.uid=${uid},reason=Repaired`,
          '-o',
          'jsonpath={range .items[*]}{.count} {.message}{"\\n"}{end}',
        ]);
        const repeated = counts
          .split('\n')
          .some(
            (l) =>
              l.endsWith(` restored deleted DaemonSet ${NS}/${COMPONENTS.speaker.workload}`) &&
              Number(l.split(' ')[0]) >= 2,
          );
        return repeated ? { done: true, value: undefined } : { done: false, observed: counts };
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );

    // Edited behind its back: every object it made is put back in place (patched, the same object).
    const edited = await everything();
    const mark = `${LABELS.partOf}=e2e-edited`;
    await cp.kubectlOk(['-n', NS, 'label', ...MADE.namespaced, mark, '--overwrite']);
    await cp.kubectlOk(['label', ...MADE.cluster, mark, '--overwrite']);
    await waitFor(
      'every edited object put back, not re-created',
      async () => {
        const labels = new Map([
          ...(await partOf(MADE.namespaced, true)),
          ...(await partOf(MADE.cluster, false)),
        ]);
        const now = await everything();
        const wrong = all.filter((n) => labels.get(n) !== APP_NAME || now.get(n) !== edited.get(n));
        return wrong.length === 0
          ? { done: true, value: undefined }
          : { done: false, observed: { wrong: wrong.map((n) => `${n}: ${labels.get(n)}`), log: opLog() } };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // A second MetalLB is reported wrongly named (its status), and deploys nothing.
    const other = 'audit-other';
    await apply([
      { apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', metadata: { name: other, namespace: NS } },
    ]);
    await waitFor(
      `Degraded=True IncorrectMetalLBResourceName on MetalLB ${other}`,
      async () => {
        const reason = await cp.kubectlOk([
          '-n',
          NS,
          'get',
          'metallb',
          other,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Degraded")].reason}',
        ]);
        return reason === 'IncorrectMetalLBResourceName'
          ? { done: true, value: undefined }
          : { done: false, observed: { reason, log: opLog() } };
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    await cp.kubectlOk(['-n', NS, 'delete', 'metallb', other, '--wait=true']);

    // An edit of the MetalLB resource rolls both workloads.
    await setMetalLBLogLevel(cp, 'debug');
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
    const failures = report.unused.length + report.oneName.length + report.refused.length + borrowed.length;
    expect({ failures, lines }).toEqual({ failures: 0, lines });
  });
});
