import { describe, expect, it } from '@jest/globals';
import {
  allows,
  PROMETHEUS_READER,
  PROMETHEUS_READER_RULES,
  prometheusReaderRole,
  renderPrometheusReader,
} from '../src/index.js';

// What Kubernetes service discovery in Prometheus calls for roles `endpoints` and `endpointslice`
// (informers: list + watch), in the install namespace.
const DISCOVERY: readonly (readonly [string, string])[] = [
  ['', 'services'],
  ['', 'endpoints'],
  ['', 'pods'],
  ['discovery.k8s.io', 'endpointslices'],
];

describe('the Prometheus reader', () => {
  const rules = prometheusReaderRole('metallb-system').rules;

  it.each(DISCOVERY)('lets service discovery list and watch %s/%s', (group, resource) => {
    for (const verb of ['get', 'list', 'watch']) expect(allows(rules, verb, group, resource)).toBe(true);
  });

  it('writes nothing, reads no Secret or ConfigMap, uses no wildcard', () => {
    for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection'])
      for (const [group, resource] of DISCOVERY) expect(allows(rules, verb, group, resource)).toBe(false);
    expect(allows(rules, 'get', '', 'secrets')).toBe(false);
    expect(allows(rules, 'list', '', 'configmaps')).toBe(false);
    expect(JSON.stringify(rules)).not.toContain('*');
  });

  it('says why for every rule', () => {
    for (const r of PROMETHEUS_READER_RULES) expect(r.why.length).toBeGreaterThan(20);
  });

  it('is a Role bound in the install namespace to the given ServiceAccount of another namespace', () => {
    const [role, binding] = renderPrometheusReader('metallb-system', { name: 'prom', namespace: 'obs' });
    expect(role).toMatchObject({
      kind: 'Role',
      metadata: { name: PROMETHEUS_READER.role, namespace: 'metallb-system' },
    });
    expect(binding).toMatchObject({
      kind: 'RoleBinding',
      metadata: { namespace: 'metallb-system' },
      roleRef: { kind: 'Role', name: PROMETHEUS_READER.role },
      subjects: [{ kind: 'ServiceAccount', name: 'prom', namespace: 'obs' }],
    });
  });

  it("binds kube-prometheus' monitoring/prometheus-k8s by default", () => {
    expect(renderPrometheusReader('metallb-system')[1].subjects).toEqual([
      { kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' },
    ]);
  });
});
