import { describe, expect, it } from '@jest/globals';
import { compareUsage, type ComponentRules } from '@metallb-ts/manifests';
import { parseAuditLog, serviceAccountUser } from '../../src/audit.js';

// Lab-free: the audit log as kube-apiserver writes it (Metadata level, one JSON line per stage),
// read into named uses and compared name by name with rules.

const NS = 'metallb-system';
const OPERATOR = serviceAccountUser(NS, 'operator');
const T0 = Date.parse('2026-12-02T07:00:00Z');

interface Line {
  verb: string;
  resource: string;
  group?: string;
  name?: string;
  code?: number;
  stage?: string;
  atMs?: number;
  uri?: string;
}
const event = (l: Line): string =>
  JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    stage: l.stage ?? 'ResponseComplete',
    requestURI: l.uri ?? `/apis/${l.group ?? ''}/v1/namespaces/${NS}/${l.resource}`,
    verb: l.verb,
    user: { username: OPERATOR, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`] },
    objectRef: {
      resource: l.resource,
      namespace: NS,
      ...(l.name ? { name: l.name } : {}),
      ...(l.group ? { apiGroup: l.group, apiVersion: 'v1' } : { apiVersion: 'v1' }),
    },
    responseStatus: { metadata: {}, code: l.code ?? 200 },
    requestReceivedTimestamp: new Date(l.atMs ?? T0 + 1000).toISOString(),
    stageTimestamp: new Date((l.atMs ?? T0 + 1000) + 5).toISOString(),
  });

const LOG = [
  event({
    verb: 'get',
    group: 'coordination.k8s.io',
    resource: 'leases',
    name: 'metallb-operator',
    code: 404,
  }),
  // A create: the API server takes the name from the body.
  event({
    verb: 'create',
    group: 'coordination.k8s.io',
    resource: 'leases',
    name: 'metallb-operator',
    code: 201,
  }),
  event({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: 'metallb-operator' }),
  // A server-side apply that created its object, and one that patched it.
  event({ verb: 'patch', group: 'apps', resource: 'deployments', name: 'controller', code: 201 }),
  event({ verb: 'patch', group: 'apps', resource: 'deployments', name: 'controller' }),
  // A list by name (fieldSelector metadata.name) names it; a list by label does not.
  event({
    verb: 'list',
    resource: 'secrets',
    name: 'webhook-server-cert',
    uri: `/api/v1/namespaces/${NS}/secrets?fieldSelector=metadata.name%3Dwebhook-server-cert`,
  }),
  event({ verb: 'watch', resource: 'secrets', stage: 'ResponseStarted' }),
  // Not counted: the same request's first stage, anything before the audit began, a broken line.
  event({ verb: 'delete', resource: 'secrets', name: 'old', stage: 'RequestReceived' }),
  event({ verb: 'delete', group: 'apps', resource: 'daemonsets', name: 'speaker', atMs: T0 - 1 }),
  '{"kind":"Event", cut off',
].join('\n');

describe('the audit log, by name', () => {
  const uses = parseAuditLog(LOG, T0);

  it('reads each completed (or started) request with its object name where the API server named it', () => {
    expect(uses.map((u) => `${u.verb} ${u.resource} ${u.name ?? '-'} ${u.code}`)).toEqual([
      'get leases metallb-operator 404',
      'create leases metallb-operator 201',
      'update leases metallb-operator 200',
      'patch deployments controller 201',
      'patch deployments controller 200',
      'list secrets webhook-server-cert 200',
      'watch secrets - 200',
    ]);
    expect(uses.every((u) => u.user === OPERATOR && u.namespace === NS)).toBe(true);
  });

  it('compared per name: a name never used, and every name granted where one was used, are reported', () => {
    const rules: ComponentRules = {
      cluster: [],
      namespaced: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'], why: 'election' },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['get', 'update'],
          resourceNames: ['metallb-operator', 'metallb-controller'],
          why: 'election, on two Leases',
        },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'patch'], why: 'applies' },
        { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'], why: 'watches' },
      ],
    };
    const r = compareUsage(rules, uses, NS);
    expect(r.unused.map((g) => `${g.verb} ${g.resource} ${g.name}`)).toEqual([
      'get leases metallb-controller',
      'update leases metallb-controller',
    ]);
    // The apply's create and patch name one Deployment, and the list selected one Secret: each
    // could be limited to that name. The Lease's create is a POST (cannot be limited); the
    // Secrets were also watched by label (no name).
    expect(r.oneName.map((o) => `${o.grant.verb} ${o.grant.resource} ${o.name}`)).toEqual([
      'create deployments controller',
      'patch deployments controller',
      'list secrets webhook-server-cert',
    ]);
    expect(r.oneNameJustified.map((o) => `${o.grant.verb} ${o.grant.resource}`)).toEqual(['create leases']);
    expect(r.refused).toEqual([]);
    expect(r.ungranted).toEqual([]);
  });
});
