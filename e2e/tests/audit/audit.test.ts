import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  COMPONENTS,
  compareUsage,
  describeUsage,
  LEASES,
  RULES,
  type ComponentName,
} from '@metallb-ts/manifests';
import { readAuditLog, serviceAccountUser } from '../../src/audit.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { DEMO_NAMESPACE, demoService, waitForIngress } from '../../src/cluster-objects.js';
import { controllerName, startController, stopComponent, startSpeaker } from '../../src/components.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { Lab, labProgressOnStderr } from '../../src/lab.js';

/*
 * Least privilege, proven: a representative workload (pools, advertisements, Services of every
 * kind, sharing, a namespace-selected pool, an invalid pool, deletes, a speaker SIGKILL failover and
 * SIGTERM restart, a controller restart) runs against the real API server, which audits every
 * request of our ServiceAccounts. Then, per component, what its generated rules grant is compared
 * with what it used: a grant nobody used fails unless its rule says why (`unusedInLab`), and so
 * does any request the API server refused. Rules limited by name are compared per name, and a
 * rule granting every name that was used for one object only fails unless it says why
 * (`everyName`; a create by POST names no object, so it cannot be limited).
 */

jest.setTimeout(180_000);

const COMPONENTS_CHECKED: readonly ComponentName[] = ['controller', 'speaker'];
const TEAM_NS = `audit-team-${Date.now().toString(36)}`;
let cp: ControlPlane;
let lab: Lab;
let startedMs = 0;

const pool = (name: string, addresses: string[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: INSTALL_NAMESPACE },
  spec: { addresses, ...extra },
});

async function apply(objects: unknown[]): Promise<void> {
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

/** The node whose speaker announces demo/`service` (its ServiceL2Status), waiting for one. */
async function announcer(service: string, not?: string): Promise<string> {
  return lab.waitFor(
    `a ServiceL2Status for ${DEMO_NAMESPACE}/${service}${not ? ` on a node other than ${not}` : ''}`,
    async () => {
      const out = await cp.kubectlOk([
        '-n',
        INSTALL_NAMESPACE,
        'get',
        'servicel2statuses.metallb.io',
        '-l',
        `metallb.io/service-name=${service},metallb.io/service-namespace=${DEMO_NAMESPACE}`,
        '-o',
        'json',
      ]);
      const nodes = (JSON.parse(out) as { items: { status?: { node?: string } }[] }).items.map(
        (i) => i.status?.node,
      );
      const node = nodes.length === 1 ? nodes[0] : undefined;
      return node && node !== not ? { done: true, value: node } : { done: false, observed: nodes };
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

beforeAll(async () => {
  cp = labControlPlane();
  // The controller's Lease outlives earlier tests' controllers; without it the workload below
  // starts a controller that must create it, as on a fresh install, whatever ran before.
  await cp.kubectlOk([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'leases.coordination.k8s.io',
    LEASES.controller,
    '--ignore-not-found',
  ]);
  // Only what happens from here on counts: earlier tests make refused requests on purpose.
  startedMs = Date.now();
  lab = await Lab.start({ cp, progress: labProgressOnStderr });
  lab.assertComponentsStarted();
}, 180_000);

afterAll(async () => {
  await cp?.kubectl(['-n', TEAM_NS, 'delete', 'services', '--all', '--wait=true', '--timeout=60s']);
  await cp?.kubectl(['delete', 'namespace', TEAM_NS, '--ignore-not-found', '--wait=false']);
  await lab?.stop();
}, 120_000);

describe('least privilege', () => {
  it('every granted permission is used by a representative workload, and none is refused', async () => {
    await lab.step('pools, advertisements and Services of every kind get addresses', async () => {
      await cp.kubectlOk(['create', 'namespace', TEAM_NS]);
      await apply([
        pool('audit-v4', ['203.0.113.200-203.0.113.210']),
        pool('audit-dual', ['203.0.113.220/30', '2001:db8:1:b::/124'], { autoAssign: false }),
        pool('audit-team', ['203.0.113.230/31'], {
          serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: 'blue' } }] },
        }),
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'AddressPool',
          metadata: { name: 'audit-legacy', namespace: INSTALL_NAMESPACE },
          spec: { protocol: 'layer2', addresses: ['203.0.113.240/31'], autoAssign: false },
        },
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'L2Advertisement',
          metadata: { name: 'audit', namespace: INSTALL_NAMESPACE },
          spec: { ipAddressPools: ['audit-v4', 'audit-dual', 'audit-team'] },
        },
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'L2Advertisement',
          metadata: { name: 'audit-nodes', namespace: INSTALL_NAMESPACE },
          spec: { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-2' } }] },
        },
        demoService({ name: 'v4' }),
        demoService({
          name: 'v6',
          ipFamilies: ['IPv6'],
          ipFamilyPolicy: 'SingleStack',
          annotations: { 'metallb.io/address-pool': 'audit-dual' },
        }),
        demoService({
          name: 'dual',
          ipFamilies: ['IPv4', 'IPv6'],
          ipFamilyPolicy: 'RequireDualStack',
          annotations: { 'metallb.io/address-pool': 'audit-dual' },
        }),
        demoService({ name: 'local', externalTrafficPolicy: 'Local' }),
        demoService({ name: 'legacy', annotations: { 'metallb.io/address-pool': 'audit-legacy' } }),
        demoService({
          name: 'share-a',
          port: 80,
          annotations: { 'metallb.io/allow-shared-ip': 'k', 'metallb.io/loadBalancerIPs': '203.0.113.205' },
        }),
        demoService({
          name: 'share-b',
          port: 81,
          annotations: { 'metallb.io/allow-shared-ip': 'k', 'metallb.io/loadBalancerIPs': '203.0.113.205' },
        }),
        demoService({ name: 'deprecated', annotations: { 'metallb.universe.tf/address-pool': 'audit-v4' } }),
        demoService({ name: 'nowhere', annotations: { 'metallb.io/address-pool': 'no-such-pool' } }),
      ]);
      for (const s of ['v4', 'v6', 'dual', 'local', 'legacy', 'share-a', 'share-b', 'deprecated'])
        await waitForIngress(cp, DEMO_NAMESPACE, s, 30_000);
      await announcer('v4');
    });

    await lab.step('a namespace label change moves nothing but is read', async () => {
      await apply([demoService({ name: 'team', namespace: TEAM_NS })]);
      await waitForIngress(cp, TEAM_NS, 'team', 30_000);
      await cp.kubectlOk(['label', 'namespace', TEAM_NS, 'team=blue']);
    });

    await lab.step('an overlapping pool is reported invalid, then deleted', async () => {
      await apply([pool('audit-overlap', ['203.0.113.209-203.0.113.212'])]);
      await lab.waitFor(
        'audit-overlap reported by an InvalidConfiguration event',
        async () => {
          const out = await cp.kubectlOk([
            '-n',
            INSTALL_NAMESPACE,
            'get',
            'events',
            '--field-selector',
            'involvedObject.name=audit-overlap',
            '-o',
            'json',
          ]);
          const reasons = (JSON.parse(out) as { items: { reason: string }[] }).items.map((e) => e.reason);
          return reasons.length > 0 ? { done: true, value: undefined } : { done: false, observed: reasons };
        },
        { timeoutMs: 20_000 },
      );
      await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'delete', 'ipaddresspools.metallb.io', 'audit-overlap']);
    });

    await lab.step('an endpoint goes unready and back', async () => {
      await lab.setPodReady('node-1', false);
      await lab.setPodReady('node-1', true);
    });

    await lab.step('speaker SIGKILL failover, then SIGTERM restart', async () => {
      const first = await announcer('v4');
      await lab.killSpeaker(first, 'SIGKILL');
      const second = await announcer('v4', first);
      const r = await startSpeaker(cp, lab.dir, first);
      if (!r.ok) throw new Error(r.error);
      const again = await lab.restartSpeaker(second);
      if (!again.ok) throw new Error(again.error);
      await announcer('v4');
    });

    await lab.step('controller restart keeps addresses; deletes free them', async () => {
      await stopComponent(lab.dir, controllerName, 'SIGTERM');
      const r = await startController(cp, lab.dir);
      if (!r.ok) throw new Error(r.error);
      await apply([demoService({ name: 'after-restart' })]);
      await waitForIngress(cp, DEMO_NAMESPACE, 'after-restart', 30_000);
      await cp.kubectlOk(['-n', DEMO_NAMESPACE, 'delete', 'service', 'share-b', 'legacy', '--wait=true']);
      await cp.kubectlOk([
        '-n',
        DEMO_NAMESPACE,
        'patch',
        'service',
        'v6',
        '-p',
        '{"spec":{"type":"ClusterIP"}}',
      ]);
      await lab.waitFor(
        'the v4 ServiceL2Status to stay and the deleted ones to go',
        async () => {
          const out = await cp.kubectlOk([
            '-n',
            INSTALL_NAMESPACE,
            'get',
            'servicel2statuses.metallb.io',
            '-o',
            'json',
          ]);
          const names = (
            JSON.parse(out) as { items: { metadata: { labels?: Record<string, string> } }[] }
          ).items.map((i) => i.metadata.labels?.['metallb.io/service-name']);
          return names.includes('legacy') || names.includes('v6')
            ? { done: false, observed: names }
            : { done: true, value: undefined };
        },
        { timeoutMs: 20_000 },
      );
    });

    const uses = readAuditLog(cp.auditLog, startedMs);
    const lines: string[] = [];
    let failures = 0;
    for (const c of COMPONENTS_CHECKED) {
      const user = serviceAccountUser(INSTALL_NAMESPACE, COMPONENTS[c].serviceAccount);
      const mine = uses.filter((u) => u.user === user);
      const report = compareUsage(RULES[c], mine, INSTALL_NAMESPACE);
      lines.push(`${c}: ${mine.length} requests audited`, ...describeUsage(c, report));
      failures += report.unused.length + report.oneName.length + report.refused.length;
      // No requests at all would make every comparison vacuous.
      expect(mine.length).toBeGreaterThan(0);
    }
    console.log(`least privilege, per ServiceAccount:\n${lines.join('\n')}`);
    expect({ failures, lines }).toEqual({ failures: 0, lines });
  });
});
