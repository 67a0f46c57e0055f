// The chart checked with the real tools: helm lint/template, parity with the one source, the
// values schema, promtool on the rendered rules (check + unit tests) and on the dashboard's queries.
import { describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import {
  DEFAULT_NAMESPACE,
  OPERATOR_SETTINGS,
  PROMETHEUS_READER,
  renderOperatorInstall,
  renderPrometheusReader,
} from '@metallb-ts/manifests';
import { ALERTS } from '../../manifests/scripts/observability.js';
import { CHART_APP_VERSION, defaultValues } from '../../manifests/scripts/chart-files.js';
import { CHART, helm, promtool, setFlags } from '../src/tools.js';

const here = dirname(fileURLToPath(import.meta.url));
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (objs: Obj[]) => [...objs].sort((a, b) => key(a).localeCompare(key(b)));

function template(values: Parameters<typeof setFlags>[0] = {}, extra: string[] = []): Obj[] {
  const r = helm([
    'template',
    'metallb-ts',
    CHART,
    '--namespace',
    DEFAULT_NAMESPACE,
    ...setFlags(values),
    ...extra,
  ]);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const ALL_ON = {
  'prometheus.serviceMonitor.enabled': true,
  'prometheus.rules.enabled': true,
  'grafana.dashboard.enabled': true,
};

describe('helm lint', () => {
  it.each([
    ['default values', {}],
    ['every observability value on (serviceMonitor)', ALL_ON],
    [
      'podMonitor instead of serviceMonitor',
      { ...ALL_ON, 'prometheus.serviceMonitor.enabled': false, 'prometheus.podMonitor.enabled': true },
    ],
  ])('%s', (_name, values) => {
    const r = helm(['lint', '--strict', CHART, ...setFlags(values)]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining('0 chart(s) failed'),
    });
  });
});

describe('helm template', () => {
  it('with default values equals what the one source renders (CRDs included, the namespace left to helm)', () => {
    const expected = renderOperatorInstall({
      namespace: DEFAULT_NAMESPACE,
      image: `${defaultValues().operator.image.repository}:${defaultValues().operator.image.tag}`,
      version: CHART_APP_VERSION,
      controllerImage: OPERATOR_SETTINGS.defs.controllerImage.default,
      speakerImage: OPERATOR_SETTINGS.defs.speakerImage.default,
    }).filter((o) => o.kind !== 'Namespace') as unknown as Obj[];
    const rendered = template({}, ['--include-crds']);
    expect(byKey(rendered)).toEqual(byKey(JSON.parse(JSON.stringify(expected)) as Obj[]));
  });

  it('sets the images, resources, nodeSelector and tolerations the values name', () => {
    const objs = template({
      'operator.image.repository': 'registry.example/op',
      'operator.image.tag': 'v9',
      'speaker.image.tag': 'v8',
      'operator.resources.limits.memory': '128Mi',
      'operator.nodeSelector.role': 'infra',
      'operator.tolerations[0].key': 'dedicated',
      'operator.tolerations[0].operator': 'Exists',
    });
    const d = objs.find((o) => o.kind === 'Deployment')!;
    const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
      nodeSelector: unknown;
      tolerations: unknown;
      containers: { image: string; resources: unknown; env: { name: string; value?: string }[] }[];
    };
    expect(pod.containers[0]!.image).toBe('registry.example/op:v9');
    expect(pod.containers[0]!.resources).toEqual({ limits: { memory: '128Mi' } });
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', role: 'infra' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    expect(pod.containers[0]!.env.find((e) => e.name === 'SPEAKER_IMAGE')?.value).toBe(
      'metallb-ts/speaker:v8',
    );
  });

  it('refuses serviceMonitor and podMonitor together, naming both', () => {
    const r = helm([
      'template',
      CHART,
      ...setFlags({ 'prometheus.serviceMonitor.enabled': true, 'prometheus.podMonitor.enabled': true }),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'prometheus.serviceMonitor.enabled and prometheus.podMonitor.enabled are mutually exclusive',
    );
  });

  it.each([
    ['operator.replicas', 'two'],
    ['prometheus.rules.enabled', 'maybe'],
    ['operator.logLevel', 'loud'],
  ])('refuses a wrong %s, naming it', (name, value) => {
    const dir = mkdtempSync(join(tmpdir(), 'ship-values-'));
    const file = join(dir, 'values.yaml');
    const path = name.split('.');
    const values = path.reduceRight<unknown>((inner, k) => ({ [k]: inner }), value);
    writeFileSync(file, stringify(values));
    const r = helm(['template', CHART, '-f', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(path[path.length - 1]!);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema/);
  });

  it('with every observability value on adds one monitor per component, the rules and the dashboard', () => {
    const kinds = template(ALL_ON).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'ServiceMonitor/metallb-ts-operator',
        'ServiceMonitor/metallb-ts-controller',
        'ServiceMonitor/metallb-ts-speaker',
        'PrometheusRule/metallb-ts',
        'ConfigMap/metallb-ts-dashboard',
      ]),
    );
    const pod = template({ 'prometheus.podMonitor.enabled': true }).filter((o) => o.kind === 'PodMonitor');
    expect(pod.map((o) => o.metadata.name).sort()).toEqual([
      'metallb-ts-controller',
      'metallb-ts-operator',
      'metallb-ts-speaker',
    ]);
  });
});

describe('the Prometheus reader Role', () => {
  const reader = (objs: Obj[]) =>
    objs.filter((o) => o.metadata.name === PROMETHEUS_READER.role).map((o) => o.kind);

  it('is not rendered by default', () => {
    expect(reader(template())).toEqual([]);
  });

  it.each([
    ['prometheus.rbac.enabled', { 'prometheus.rbac.enabled': true }],
    ['a ServiceMonitor', { 'prometheus.serviceMonitor.enabled': true }],
    ['a PodMonitor', { 'prometheus.podMonitor.enabled': true }],
  ])('is rendered for %s', (_name, values) => {
    expect(reader(template(values))).toEqual(['Role', 'RoleBinding']);
  });

  it('equals what the one source renders, bound to the ServiceAccount the values name', () => {
    const objs = template({
      'prometheus.rbac.enabled': true,
      'prometheus.serviceAccount.name': 'prom',
      'prometheus.serviceAccount.namespace': 'observability',
    }).filter((o) => o.metadata.name === PROMETHEUS_READER.role);
    expect(objs).toEqual(
      JSON.parse(
        JSON.stringify(
          renderPrometheusReader(DEFAULT_NAMESPACE, { name: 'prom', namespace: 'observability' }),
        ),
      ),
    );
  });

  it('refuses an empty ServiceAccount name, naming it', () => {
    const r = helm([
      'template',
      CHART,
      ...setFlags({ 'prometheus.rbac.enabled': true }),
      '--set',
      'prometheus.serviceAccount.name=',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('/prometheus/serviceAccount/name');
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema/);
  });
});

describe('alerts (promtool)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ship-rules-'));
  const rules = () => {
    const rule = template({
      'prometheus.rules.enabled': true,
      'prometheus.rules.excludePools': ['static'],
    }).find((o) => o.kind === 'PrometheusRule')!;
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, stringify(rule.spec));
    return { rule, file };
  };

  it('the rendered PrometheusRule holds MetalLB alert names and ours, in group <release>.rules', () => {
    const { rule } = rules();
    const groups = (rule.spec as { groups: { name: string; rules: { alert: string }[] }[] }).groups;
    expect(groups.map((g) => g.name)).toEqual(['metallb-ts.rules']);
    expect(groups[0]!.rules.map((r) => r.alert)).toEqual(ALERTS.map((a) => a.alert));
    expect(groups[0]!.rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'MetalLBStaleConfig',
        'MetalLBConfigNotLoaded',
        'MetalLBAddressPoolExhausted',
        'MetalLBAddressPoolUsage75Percent',
        'MetalLBAddressPoolUsage85Percent',
        'MetalLBAddressPoolUsage95Percent',
      ]),
    );
  });

  it('promtool check rules accepts them', () => {
    const r = promtool(['check', 'rules', rules().file]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`),
    });
  });

  it('promtool test rules: every alert fires and stays quiet where it should, with its labels', () => {
    rules();
    copyFileSync(join(here, 'promtool', 'alerts.test.yaml'), join(dir, 'alerts.test.yaml'));
    const r = promtool(['test', 'rules', join(dir, 'alerts.test.yaml')]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining('SUCCESS'),
    });
  });

  it('every alert is exercised by the unit tests', () => {
    const tests = parseAllDocuments(
      readFileSync(join(here, 'promtool', 'alerts.test.yaml'), 'utf8'),
    )[0]!.toJS() as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const a of ALERTS)
      expect(cases.some((c) => c.alertname === a.alert && c.exp_alerts.length > 0)).toBe(true);
  });
});

describe('dashboard', () => {
  it('is a ConfigMap labelled grafana_dashboard: "1" whose every query parses with promtool', () => {
    const cm = template({ 'grafana.dashboard.enabled': true }).find((o) => o.kind === 'ConfigMap')!;
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const model = JSON.parse(cm.data!['metallb-ts.json']!) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = model.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(7);
    const file = join(mkdtempSync(join(tmpdir(), 'ship-dash-')), 'queries.yaml');
    writeFileSync(
      file,
      stringify({
        groups: [
          { name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) },
        ],
      }),
    );
    const r = promtool(['check', 'rules', file]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`SUCCESS: ${exprs.length} rules found`),
    });
  });
});
