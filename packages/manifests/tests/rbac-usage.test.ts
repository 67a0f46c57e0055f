import { describe, expect, it } from '@jest/globals';
import { compareUsage, describeUsage, grantsOf, type ApiUse, type ComponentRules } from '../src/index.js';

const NS = 'metallb-system';
const rules: ComponentRules = {
  cluster: [
    { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'], why: 'caches Services' },
    { apiGroups: [''], resources: ['services/status'], verbs: ['patch'], why: 'writes the address' },
  ],
  namespaced: [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], why: 'election' },
    {
      apiGroups: ['metallb.io'],
      resources: ['ipaddresspools'],
      verbs: ['patch'],
      why: 'records the last valid spec',
      unusedInLab: 'only when a pool turns invalid after a restart',
    },
  ],
};
const use = (verb: string, group: string, resource: string, namespace?: string, code = 200): ApiUse => ({
  verb,
  group,
  resource,
  code,
  ...(namespace ? { namespace } : {}),
});

describe('compareUsage', () => {
  it('one grant per verb, group and resource, from the ClusterRole or the Role', () => {
    expect(grantsOf(rules).map((g) => `${g.scope} ${g.verb} ${g.resource}`)).toEqual([
      'cluster list services',
      'cluster watch services',
      'cluster patch services/status',
      'namespaced get leases',
      'namespaced update leases',
      'namespaced patch ipaddresspools',
    ]);
  });

  it('nothing unused when every grant was exercised; a justified rule is listed apart', () => {
    const r = compareUsage(
      rules,
      [
        use('list', '', 'services'),
        use('watch', '', 'services'),
        use('patch', '', 'services/status', 'demo'),
        use('get', 'coordination.k8s.io', 'leases', NS),
        use('update', 'coordination.k8s.io', 'leases', NS),
      ],
      NS,
    );
    expect(r.unused).toEqual([]);
    expect(r.refused).toEqual([]);
    expect(r.justified.map((g) => `${g.verb} ${g.resource}`)).toEqual(['patch ipaddresspools']);
  });

  it('a grant nobody used is reported; a Role grant used only outside its namespace counts as unused', () => {
    const r = compareUsage(
      rules,
      [
        use('list', '', 'services'),
        use('watch', '', 'services'),
        use('get', 'coordination.k8s.io', 'leases', 'elsewhere'),
        use('update', 'coordination.k8s.io', 'leases', NS),
      ],
      NS,
    );
    expect(r.unused.map((g) => `${g.verb} ${g.resource}`)).toEqual(['patch services/status', 'get leases']);
    expect(r.ungranted).toEqual([use('get', 'coordination.k8s.io', 'leases', 'elsewhere')]);
  });

  it('a refused request is reported once and does not count as use', () => {
    const r = compareUsage(
      rules,
      [use('patch', '', 'services/status', 'demo', 403), use('patch', '', 'services/status', 'demo', 403)],
      NS,
    );
    expect(r.refused).toEqual([use('patch', '', 'services/status', 'demo', 403)]);
    expect(r.unused.map((g) => g.resource)).toContain('services/status');
    expect(describeUsage('controller', r)).toContain(
      'controller: refused (403): patch core/services/status in demo',
    );
  });
});

describe('compareUsage, by name', () => {
  const named: ComponentRules = {
    cluster: [],
    namespaced: [
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['create'],
        why: 'creates its Lease',
      },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'update'],
        resourceNames: ['mine', 'spare'],
        why: 'its Lease',
      },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'create', 'patch'], why: 'applies' },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch', 'delete'], why: 'prunes' },
      {
        apiGroups: [''],
        resources: ['events'],
        verbs: ['patch'],
        why: 'repeats',
        everyName: 'the recorder names events',
      },
    ],
  };
  const at = (verb: string, group: string, resource: string, name?: string, code = 200): ApiUse => ({
    ...use(verb, group, resource, NS, code),
    ...(name ? { name } : {}),
  });
  const L = 'coordination.k8s.io';

  it('a rule limited by name grants each name apart: a name never used is unused', () => {
    expect(
      grantsOf(named)
        .filter((g) => g.resource === 'leases')
        .map((g) => `${g.verb} ${g.name}`),
    ).toEqual(['create undefined', 'get mine', 'get spare', 'update mine', 'update spare']);
    const r = compareUsage(
      named,
      [
        at('create', L, 'leases', 'mine', 201),
        at('get', L, 'leases', 'mine'),
        at('update', L, 'leases', 'mine'),
      ],
      NS,
    );
    expect(r.unused.filter((g) => g.resource === 'leases').map((g) => `${g.verb} ${g.name}`)).toEqual([
      'get spare',
      'update spare',
    ]);
    expect(describeUsage('c', r)).toContain(
      'c: granted but never used: get coordination.k8s.io/leases "spare" (Role) — rule "its Lease"',
    );
  });

  it('a request for a name outside the rule, allowed by no broader rule, is not granted by it', () => {
    const r = compareUsage(named, [at('get', L, 'leases', 'theirs')], NS);
    expect(r.ungranted).toEqual([at('get', L, 'leases', 'theirs')]);
  });

  it('a request for a name outside a name-limited rule, allowed by a broader rule, is fine', () => {
    const overlapping: ComponentRules = {
      cluster: [],
      namespaced: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          verbs: ['get'],
          resourceNames: ['cert'],
          why: 'its Secret',
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'], why: 'any Secret' },
      ],
    };
    const r = compareUsage(
      overlapping,
      [at('get', '', 'secrets', 'cert'), at('get', '', 'secrets', 'other')],
      NS,
    );
    expect(r).toEqual({
      unused: [],
      justified: [],
      oneName: [],
      oneNameJustified: [],
      refused: [],
      ungranted: [],
    });
  });

  it('a grant of every name used for one name only is reported; two names, or a nameless list, are not', () => {
    const r = compareUsage(
      named,
      [
        at('get', 'apps', 'deployments', 'controller'),
        at('get', 'apps', 'deployments', 'speaker'),
        at('patch', 'apps', 'deployments', 'controller'),
        at('list', '', 'secrets'),
        at('list', '', 'secrets', 'one'),
        at('delete', '', 'secrets', 'old'),
      ],
      NS,
    );
    expect(r.oneName.map((o) => `${o.grant.verb} ${o.grant.resource} ${o.name}`)).toEqual([
      'patch deployments controller',
      'delete secrets old',
    ]);
    expect(describeUsage('operator', r)).toContain(
      'operator: granted for every name but used for "controller" only: patch apps/deployments (Role) — rule "applies"',
    );
  });

  it('a server-side apply that created its object (patch, 201) is a create, and names it', () => {
    const r = compareUsage(
      named,
      [at('patch', 'apps', 'deployments', 'controller', 201), at('get', 'apps', 'deployments', 'x')],
      NS,
    );
    const create = (rr: typeof r) =>
      [...rr.oneName, ...rr.unused.map((grant) => ({ grant, name: '(unused)' }))]
        .filter((o) => o.grant.verb === 'create' && o.grant.resource === 'deployments')
        .map((o) => o.name);
    // Used, for one name only, and limitable by name: reported.
    expect(create(r)).toEqual(['controller']);
    // A patch of an existing object (200) creates nothing.
    expect(create(compareUsage(named, [at('patch', 'apps', 'deployments', 'controller')], NS))).toEqual([
      '(unused)',
    ]);
  });

  it('justified: the reason beside the rule, or a create by POST, which cannot be limited by name', () => {
    const r = compareUsage(
      named,
      [at('create', L, 'leases', 'mine', 201), at('patch', '', 'events', 'e.1')],
      NS,
    );
    expect(r.oneName.filter((o) => o.grant.resource !== 'deployments')).toEqual([]);
    expect(r.oneNameJustified.map((o) => `${o.grant.verb} ${o.grant.resource} ${o.name}: ${o.why}`)).toEqual([
      'create leases mine: create by POST names no object, so it cannot be limited by name',
      'patch events e.1: the recorder names events',
    ]);
  });
});
