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
