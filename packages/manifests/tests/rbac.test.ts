import { describe, expect, it } from '@jest/globals';
import {
  allows,
  COMPONENTS,
  componentRbac,
  LEASES,
  MEMBERLIST,
  CONTROLLER_RULES,
  mergeRules,
  OPERATOR_OWN_RULES,
  OPERATOR_RULES,
  renderComponents,
  RULES,
  SPEAKER_RULES,
  WEBHOOK,
  type ClusterRole,
  type ClusterRoleBinding,
  type ComponentName,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Rule,
} from '../src/index.js';

type Scope = 'cluster' | 'namespaced';
/** An API call the code makes: [verb, group, resource, scope, object name?]. */
type Call = readonly [string, string, string, Scope, string?];

// The calls each binary makes (watchCache = list + watch; event recorder = create + patch;
// lease elector = get + create + update; heartbeat/membership = create/patch/delete + list/watch).
const CALLS: Record<ComponentName, readonly Call[]> = {
  controller: [
    ['list', '', 'services', 'cluster'],
    ['watch', '', 'services', 'cluster'],
    ['patch', '', 'services', 'cluster'],
    ['patch', '', 'services/status', 'cluster'],
    ['list', '', 'namespaces', 'cluster'],
    ['watch', '', 'namespaces', 'cluster'],
    ['create', '', 'events', 'cluster'],
    ['patch', '', 'events', 'cluster'],
    ['list', 'metallb.io', 'ipaddresspools', 'namespaced'],
    ['watch', 'metallb.io', 'ipaddresspools', 'namespaced'],
    ['list', 'metallb.io', 'addresspools', 'namespaced'],
    ['watch', 'metallb.io', 'l2advertisements', 'namespaced'],
    ['patch', 'metallb.io', 'ipaddresspools', 'namespaced'],
    ['patch', 'metallb.io', 'addresspools', 'namespaced'],
    ['patch', 'metallb.io', 'ipaddresspools/status', 'namespaced'],
    ['patch', 'metallb.io', 'addresspools/status', 'namespaced'],
    ['get', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.controller],
    ['create', 'coordination.k8s.io', 'leases', 'namespaced'],
    ['update', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.controller],
    ['get', '', 'secrets', 'namespaced', MEMBERLIST.secret],
    ['create', '', 'secrets', 'namespaced'],
    // Its owner, read once at start (runComponent's `owner`).
    ['get', 'apps', 'deployments', 'namespaced', COMPONENTS.controller.workload],
  ],
  speaker: [
    ['list', '', 'services', 'cluster'],
    ['watch', '', 'services', 'cluster'],
    ['list', 'discovery.k8s.io', 'endpointslices', 'cluster'],
    ['watch', 'discovery.k8s.io', 'endpointslices', 'cluster'],
    ['list', '', 'nodes', 'cluster'],
    ['watch', '', 'nodes', 'cluster'],
    ['create', '', 'events', 'cluster'],
    ['patch', '', 'events', 'cluster'],
    ['watch', 'metallb.io', 'ipaddresspools', 'namespaced'],
    ['watch', 'metallb.io', 'l2advertisements', 'namespaced'],
    ['list', 'metallb.io', 'servicel2statuses', 'namespaced'],
    ['create', 'metallb.io', 'servicel2statuses', 'namespaced'],
    ['delete', 'metallb.io', 'servicel2statuses', 'namespaced'],
    ['patch', 'metallb.io', 'servicel2statuses/status', 'namespaced'],
    // Re-owning its objects after a restart (a merge patch of metadata.ownerReferences).
    ['patch', 'metallb.io', 'servicel2statuses', 'namespaced'],
    // Its own Pod, read once at start (runComponent's `owner`).
    ['get', '', 'pods', 'namespaced'],
    // Its gossip peers: the nodes that run a speaker Pod.
    ['list', '', 'pods', 'namespaced'],
    ['watch', '', 'pods', 'namespaced'],
    // The two-node tie-break Lease, only while gossip reports a tie.
    ['get', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.speakerTieBreak],
    ['create', 'coordination.k8s.io', 'leases', 'namespaced'],
    ['update', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.speakerTieBreak],
    ['list', '', 'secrets', 'namespaced', MEMBERLIST.secret],
    ['watch', '', 'secrets', 'namespaced', MEMBERLIST.secret],
  ],
  operator: [
    ['watch', 'metallb.io', 'metallbs', 'namespaced'],
    ['patch', 'metallb.io', 'metallbs/status', 'namespaced'],
    // Server-side apply of what it renders, by name: a missing object is created (authorized as create).
    ['patch', 'apps', 'deployments', 'namespaced', COMPONENTS.controller.workload],
    ['create', 'apps', 'deployments', 'namespaced', COMPONENTS.controller.workload],
    ['patch', 'apps', 'daemonsets', 'namespaced', COMPONENTS.speaker.workload],
    ['create', 'apps', 'daemonsets', 'namespaced', COMPONENTS.speaker.workload],
    // What an earlier version applied, whatever its name.
    ['delete', 'apps', 'daemonsets', 'namespaced'],
    ['delete', '', 'secrets', 'namespaced'],
    ['patch', '', 'serviceaccounts', 'namespaced', COMPONENTS.speaker.serviceAccount],
    ['patch', '', 'services', 'namespaced', COMPONENTS.controller.metricsService],
    ['create', '', 'secrets', 'namespaced'],
    ['update', '', 'secrets', 'namespaced', WEBHOOK.certSecret],
    ['patch', 'rbac.authorization.k8s.io', 'roles', 'namespaced', COMPONENTS.controller.role],
    ['patch', 'rbac.authorization.k8s.io', 'rolebindings', 'namespaced', COMPONENTS.speaker.role],
    ['create', 'rbac.authorization.k8s.io', 'clusterroles', 'cluster', COMPONENTS.controller.clusterRole],
    ['patch', 'rbac.authorization.k8s.io', 'clusterroles', 'cluster', COMPONENTS.speaker.clusterRole],
    [
      'delete',
      'rbac.authorization.k8s.io',
      'clusterrolebindings',
      'cluster',
      COMPONENTS.controller.clusterRole,
    ],
    ['watch', 'rbac.authorization.k8s.io', 'clusterrolebindings', 'cluster'],
    [
      'patch',
      'admissionregistration.k8s.io',
      'validatingwebhookconfigurations',
      'cluster',
      WEBHOOK.configuration,
    ],
    // Watched by name (fieldSelector metadata.name), which a name-limited rule allows.
    [
      'watch',
      'admissionregistration.k8s.io',
      'validatingwebhookconfigurations',
      'cluster',
      WEBHOOK.configuration,
    ],
    ['list', 'apps', 'deployments', 'cluster'],
    ['watch', 'apps', 'deployments', 'cluster'],
    ['create', '', 'events', 'namespaced'],
    ['get', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.operator],
    ['update', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.operator],
    // Its own Deployment, read once at start: it owns the Lease and the webhook certificate Secret.
    ['get', 'apps', 'deployments', 'namespaced', COMPONENTS.operator.workload],
  ],
};

/** The rules as rendered: the ClusterRole's, plus the Role's for calls in the install namespace. */
function rulesFor(c: ComponentName, scope: Scope): readonly PolicyRule[] {
  const objects = componentRbac(c, 'ns');
  const cluster = (objects.find((o) => o.kind === 'ClusterRole') as ClusterRole).rules;
  const namespaced = (objects.find((o) => o.kind === 'Role') as Role).rules;
  return scope === 'cluster' ? cluster : [...cluster, ...namespaced];
}

describe('allows', () => {
  const rules: Rule[] = [
    { apiGroups: [''], resources: ['services'], verbs: ['get'], why: 'x' },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'], resourceNames: ['a'], why: 'y' },
  ];
  it.each([
    ['get', '', 'services', undefined, true],
    ['list', '', 'services', undefined, false],
    ['get', 'apps', 'services', undefined, false],
    ['get', '', 'services/status', undefined, false],
    ['patch', 'apps', 'deployments', 'a', true],
    ['patch', 'apps', 'deployments', 'b', false],
    ['patch', 'apps', 'deployments', undefined, false],
  ] as const)('%s %s/%s name=%s -> %s', (verb, group, resource, name, expected) => {
    expect(allows(rules, verb, group, resource, name)).toBe(expected);
  });
  it('honours wildcards', () => {
    expect(allows([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], 'delete', 'x', 'y')).toBe(true);
  });
});

describe.each(Object.keys(CALLS) as ComponentName[])('%s rules', (component) => {
  it.each(CALLS[component].map((c) => [c.join(' '), c] as const))(
    'allow %s',
    (_, [verb, group, resource, scope, name]) => {
      expect(allows(rulesFor(component, scope), verb, group, resource, name)).toBe(true);
    },
  );

  it('use no wildcard and say why for every rule', () => {
    for (const r of [...RULES[component].cluster, ...RULES[component].namespaced]) {
      for (const list of [r.apiGroups, r.resources, r.verbs]) expect(list).not.toContain('*');
      expect(r.why.length).toBeGreaterThan(5);
    }
  });

  it('render the same rules (without the why) into the Role and ClusterRole', () => {
    const objects = componentRbac(component, 'ns');
    const cr = objects.find((o) => o.kind === 'ClusterRole') as ClusterRole;
    const role = objects.find((o) => o.kind === 'Role') as Role;
    expect(cr.rules).toHaveLength(RULES[component].cluster.length);
    expect(role.rules).toHaveLength(RULES[component].namespaced.length);
    for (const r of [...cr.rules, ...role.rules]) expect(Object.keys(r)).not.toContain('why');
  });
});

describe('least privilege', () => {
  it.each([
    ['controller', 'get', '', 'pods', 'cluster', undefined],
    ['controller', 'get', '', 'pods', 'namespaced', undefined],
    ['controller', 'get', 'apps', 'deployments', 'namespaced', COMPONENTS.speaker.workload],
    ['controller', 'list', 'apps', 'deployments', 'namespaced', undefined],
    ['speaker', 'get', '', 'pods', 'cluster', undefined],
    ['speaker', 'list', '', 'pods', 'cluster', undefined],
    ['speaker', 'update', '', 'pods', 'namespaced', undefined],
    ['controller', 'get', '', 'secrets', 'namespaced', undefined],
    ['controller', 'list', '', 'nodes', 'cluster', undefined],
    ['controller', 'list', 'discovery.k8s.io', 'endpointslices', 'cluster', undefined],
    ['speaker', 'update', '', 'services', 'cluster', undefined],
    ['speaker', 'patch', '', 'services/status', 'cluster', undefined],
    ['speaker', 'patch', 'metallb.io', 'ipaddresspools', 'namespaced', undefined],
    ['speaker', 'get', '', 'secrets', 'namespaced', undefined],
    ['speaker', 'get', '', 'secrets', 'namespaced', 'webhook-server-cert'],
    ['speaker', 'create', '', 'secrets', 'namespaced', undefined],
    // Gossip membership: no Lease per speaker; only the tie-break Lease, and only get/update.
    ['speaker', 'update', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.controller],
    ['speaker', 'get', 'coordination.k8s.io', 'leases', 'namespaced', undefined],
    ['speaker', 'patch', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.speakerTieBreak],
    ['speaker', 'delete', 'coordination.k8s.io', 'leases', 'namespaced', LEASES.speakerTieBreak],
    ['controller', 'get', '', 'secrets', 'namespaced', 'webhook-server-cert'],
    ['controller', 'update', '', 'secrets', 'namespaced', MEMBERLIST.secret],
    ['operator', 'get', '', 'secrets', 'cluster', undefined],
    ['operator', 'patch', 'apps', 'daemonsets', 'cluster', undefined],
    ['operator', 'patch', 'rbac.authorization.k8s.io', 'clusterroles', 'cluster', 'cluster-admin'],
    [
      'operator',
      'delete',
      'admissionregistration.k8s.io',
      'validatingwebhookconfigurations',
      'cluster',
      'other',
    ],
    ['operator', 'escalate', 'rbac.authorization.k8s.io', 'clusterroles', 'cluster', undefined],
    ['operator', 'bind', 'rbac.authorization.k8s.io', 'clusterroles', 'cluster', undefined],
  ] as const)('%s may not %s %s/%s (%s %s)', (...row) => {
    const [component, verb, group, resource, scope, name] = row as unknown as [
      ComponentName,
      string,
      string,
      string,
      Scope,
      string | undefined,
    ];
    expect(allows(rulesFor(component, scope), verb, group, resource, name)).toBe(false);
  });
});

describe('the operator', () => {
  // Kubernetes lets it create a (Cluster)Role only if it holds every permission in it.
  it.each(['controller', 'speaker'] as const)('holds every permission it grants the %s', (component) => {
    for (const scope of ['cluster', 'namespaced'] as const) {
      const granted = scope === 'cluster' ? RULES[component].cluster : RULES[component].namespaced;
      const held = scope === 'cluster' ? OPERATOR_RULES.cluster : OPERATOR_RULES.namespaced;
      for (const r of granted)
        for (const g of r.apiGroups)
          for (const res of r.resources)
            for (const v of r.verbs)
              for (const name of r.resourceNames ?? [undefined])
                expect([scope, v, g, res, name, allows(held, v, g, res, name)]).toEqual([
                  scope,
                  v,
                  g,
                  res,
                  name,
                  true,
                ]);
    }
  });

  it('holds its own rules and explains the granted ones', () => {
    for (const r of OPERATOR_OWN_RULES.cluster)
      for (const v of r.verbs)
        expect(
          allows(OPERATOR_RULES.cluster, v, r.apiGroups[0]!, r.resources[0]!, r.resourceNames?.[0]),
        ).toBe(true);
    const slices = OPERATOR_RULES.cluster.find((r) => r.resources.includes('endpointslices'))!;
    expect(slices.why).toContain('to grant the speaker: whether a Service has a ready endpoint');
  });
});

describe('the operator applies what it renders, by name', () => {
  const rendered = renderComponents({
    namespace: 'mlb',
    spec: {},
    images: { controller: 'c:1', speaker: 's:1' },
    version: 'v1',
  });
  const resourceOf = (o: (typeof rendered)[number]) => {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
    const scope: Scope = o.metadata.namespace === undefined ? 'cluster' : 'namespaced';
    return { group, resource: `${o.kind.toLowerCase()}s`.replace(/ys$/, 'ies'), scope };
  };

  // Server-side apply reads, patches, and creates what is missing (authorized as create).
  it.each(rendered.map((o) => [`${o.kind}/${o.metadata.name}`, o] as const))(
    'may get, create and patch %s, and the same kind under another name not',
    (_, o) => {
      const { group, resource, scope } = resourceOf(o);
      for (const v of ['get', 'create', 'patch'])
        expect([v, allows(OPERATOR_OWN_RULES[scope], v, group, resource, o.metadata.name)]).toEqual([
          v,
          true,
        ]);
      for (const v of ['get', 'patch'])
        expect([v, allows(OPERATOR_OWN_RULES[scope], v, group, resource, 'another')]).toEqual([v, false]);
    },
  );

  it('renders every kind it is granted to apply (no name granted for nothing)', () => {
    const applies = [...OPERATOR_OWN_RULES.cluster, ...OPERATOR_OWN_RULES.namespaced].filter(
      (r) =>
        r.verbs.includes('patch') && r.resourceNames && r.apiGroups[0] !== 'admissionregistration.k8s.io',
    );
    const renderedNames = new Set(rendered.map((o) => `${resourceOf(o).resource}/${o.metadata.name}`));
    for (const r of applies)
      for (const res of r.resources)
        for (const n of r.resourceNames!)
          expect([res, n, renderedNames.has(`${res}/${n}`)]).toEqual([res, n, true]);
  });
});

describe("the operator's own rules name what the webhook needs", () => {
  const own = (scope: 'cluster' | 'namespaced') => OPERATOR_OWN_RULES[scope];
  it.each([
    ['namespaced', 'list', 'metallb.io', 'ipaddresspools', undefined],
    ['namespaced', 'list', 'metallb.io', 'addresspools', undefined],
    ...(['get', 'list', 'watch', 'create', 'update'] as const).map(
      (v) => ['namespaced', v, '', 'secrets', WEBHOOK.certSecret] as const,
    ),
    ...(['get', 'list', 'watch', 'patch'] as const).map(
      (v) =>
        [
          'cluster',
          v,
          'admissionregistration.k8s.io',
          'validatingwebhookconfigurations',
          WEBHOOK.configuration,
        ] as const,
    ),
  ])('%s %s %s/%s %s', (scope, verb, group, resource, name) => {
    expect(allows(own(scope as 'cluster' | 'namespaced'), verb, group, resource, name)).toBe(true);
  });

  it('touches no other webhook configuration', () => {
    for (const v of ['get', 'list', 'watch', 'patch', 'update', 'delete'])
      expect(
        allows(
          OPERATOR_RULES.cluster,
          v,
          'admissionregistration.k8s.io',
          'validatingwebhookconfigurations',
          'other',
        ),
      ).toBe(false);
  });
});

describe('mergeRules', () => {
  it('unions verbs per resource and groups resources with equal verbs', () => {
    const merged = mergeRules([
      { from: 'a', rules: [{ apiGroups: [''], resources: ['x', 'y'], verbs: ['get'], why: 'one' }] },
      { from: 'b', rules: [{ apiGroups: [''], resources: ['x'], verbs: ['list'], why: 'two' }] },
    ]);
    expect(merged.map(({ apiGroups, resources, verbs }) => ({ apiGroups, resources, verbs }))).toEqual([
      { apiGroups: [''], resources: ['x'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['y'], verbs: ['get'] },
    ]);
    expect(merged[0]!.why).toBe('a: one; b: two');
  });

  it('keeps name-limited rules apart', () => {
    const merged = mergeRules([
      {
        from: 'a',
        rules: [{ apiGroups: [''], resources: ['x'], verbs: ['get'], resourceNames: ['n'], why: 'w' }],
      },
      { from: 'b', rules: [{ apiGroups: [''], resources: ['x'], verbs: ['list'], why: 'w' }] },
    ]);
    expect(allows(merged, 'get', '', 'x', 'other')).toBe(false);
    expect(allows(merged, 'get', '', 'x', 'n')).toBe(true);
    expect(allows(merged, 'list', '', 'x')).toBe(true);
  });
});

describe('bindings', () => {
  it.each(['controller', 'speaker', 'operator'] as const)(
    'bind the %s ServiceAccount to its roles',
    (component) => {
      const objects = componentRbac(component, 'ns-1');
      const names = COMPONENTS[component];
      const sa = objects.find((o) => o.kind === 'ServiceAccount')!;
      expect(sa.metadata).toMatchObject({ name: names.serviceAccount, namespace: 'ns-1' });
      const crb = objects.find((o) => o.kind === 'ClusterRoleBinding') as ClusterRoleBinding;
      const rb = objects.find((o) => o.kind === 'RoleBinding') as RoleBinding;
      expect(crb.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: names.clusterRole,
      });
      expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role });
      for (const b of [crb, rb])
        expect(b.subjects).toEqual([
          { kind: 'ServiceAccount', name: names.serviceAccount, namespace: 'ns-1' },
        ]);
      expect(crb.metadata.namespace).toBeUndefined();
      expect(rb.metadata.namespace).toBe('ns-1');
    },
  );

  // Only what the components use (e2e/tests/audit checks it against the API server's audit log):
  // no Endpoints (EndpointSlices only), no events.k8s.io (the recorder writes core Events), no
  // namespaces for the speaker.
  it('controller and speaker cluster rules name only the resources they use', () => {
    expect(CONTROLLER_RULES.cluster.flatMap((r) => r.resources)).toEqual([
      'services',
      'services/status',
      'events',
      'namespaces',
    ]);
    expect(SPEAKER_RULES.cluster.flatMap((r) => r.resources)).toEqual([
      'services',
      'nodes',
      'endpointslices',
      'events',
    ]);
  });
});
