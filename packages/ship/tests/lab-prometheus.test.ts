// The lab's Prometheus set-up (e2e/src/prometheus.ts) without a cluster: the config it writes
// passes promtool and its relabelling keeps exactly our metrics endpoints with the labels the
// chart's ServiceMonitors give; the rules it loads are the chart's, values included.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  COMPONENTS,
  DEFAULT_NAMESPACE,
  LABELS,
  METRICS_PORT,
  MONITORING_PORT_NAME,
  metricsService,
  selectorLabels,
  webhookService,
  type ComponentName,
} from '@metallb-ts/manifests';
import { ALERTS } from '../../manifests/scripts/observability.js';
import {
  BUILD_PROMETHEUS,
  prometheusBin,
  prometheusConfig,
  rulesFromChart,
  sdLabel,
} from '../../../e2e/src/prometheus.js';
import { CHART, helmPath, promtool } from '../src/tools.js';

interface Relabel {
  action: 'keep' | 'replace';
  source_labels: string[];
  regex?: string;
  target_label?: string;
}
interface Config {
  global: Record<string, string>;
  rule_files: string[];
  scrape_configs: {
    job_name: string;
    kubernetes_sd_configs: {
      role: string;
      api_server: string;
      namespaces: { names: string[] };
      tls_config: { ca_file: string };
      authorization: { credentials_file: string };
    }[];
    relabel_configs: Relabel[];
  }[];
}

/** Upstream's promtool: Debian's knows no kubernetes_sd_configs (its package removed that discovery). */
function checkConfig(file: string): { code: number; out: string } {
  const bin = prometheusBin().promtool;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it with ${BUILD_PROMETHEUS}`);
  const r = spawnSync(bin, ['check', 'config', file], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'lab-prometheus-'));
const files = {
  ca: join(dir, 'ca.crt'),
  token: join(dir, 'token'),
  rules: join(dir, 'rules.yaml'),
  config: join(dir, 'prometheus.yml'),
};
const options = {
  apiServer: 'https://198.51.100.1:16443',
  caFile: files.ca,
  tokenFile: files.token,
  rulesFile: files.rules,
};

/**
 * Prometheus' relabelling for the two actions the config uses: source values joined by `;`,
 * the regex anchored at both ends; `replace` with the default `$1` of `(.*)` copies the value
 * (an empty value leaves the target unset). Returns the target's labels, or undefined when dropped.
 */
function relabel(
  rules: readonly Relabel[],
  discovered: Record<string, string>,
): Record<string, string> | undefined {
  const labels = { ...discovered };
  for (const r of rules) {
    const value = r.source_labels.map((l) => labels[l] ?? '').join(';');
    if (r.action === 'keep') {
      if (!new RegExp(`^(?:${r.regex ?? '(.*)'})$`).test(value)) return undefined;
    } else if (value !== '') labels[r.target_label!] = value;
  }
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('__')));
}

/** What endpointslice discovery reports for one endpoint of `service` (its labels, its port). */
function discovered(
  service: { metadata: { name: string; namespace?: string; labels?: Record<string, string> } },
  port: string,
  pod: string,
  node: string,
): Record<string, string> {
  return {
    __address__: `198.51.100.11:${METRICS_PORT}`,
    __meta_kubernetes_namespace: service.metadata.namespace ?? '',
    __meta_kubernetes_service_name: service.metadata.name,
    ...Object.fromEntries(
      Object.entries(service.metadata.labels ?? {}).map(([k, v]) => [sdLabel('service_label', k), v]),
    ),
    __meta_kubernetes_endpointslice_port_name: port,
    __meta_kubernetes_pod_name: pod,
    __meta_kubernetes_pod_node_name: node,
  };
}

describe('prometheusConfig', () => {
  const config = parse(prometheusConfig(options)) as Config;
  const job = config.scrape_configs[0]!;

  it('discovers the install namespace through the API server with the CA and the token, 5 s intervals, the rules file', () => {
    expect(config.global).toEqual({ scrape_interval: '5s', scrape_timeout: '5s', evaluation_interval: '5s' });
    expect(config.rule_files).toEqual([files.rules]);
    expect(job.kubernetes_sd_configs).toEqual([
      {
        role: 'endpointslice',
        api_server: options.apiServer,
        namespaces: { names: [DEFAULT_NAMESPACE] },
        tls_config: { ca_file: files.ca },
        authorization: { type: 'Bearer', credentials_file: files.token },
      },
    ]);
  });

  it.each(Object.keys(COMPONENTS) as ComponentName[])(
    "keeps the %s's metrics endpoint, labelled as the chart's ServiceMonitor would",
    (c) => {
      const svc = metricsService(c, DEFAULT_NAMESPACE, 'dev');
      expect(
        relabel(job.relabel_configs, discovered(svc, MONITORING_PORT_NAME, `${c}-abc`, 'node-2')),
      ).toEqual({
        namespace: DEFAULT_NAMESPACE,
        service: COMPONENTS[c].metricsService,
        job: COMPONENTS[c].metricsService,
        endpoint: MONITORING_PORT_NAME,
        pod: `${c}-abc`,
        node: 'node-2',
        component: c,
      });
    },
  );

  it('drops the webhook Service, a metrics Service of someone else and another port', () => {
    const ours = metricsService('speaker', DEFAULT_NAMESPACE);
    const foreign = {
      metadata: {
        name: 'speaker-metrics',
        namespace: DEFAULT_NAMESPACE,
        labels: { app: 'metallb', component: 'speaker' },
      },
    };
    const renamed = { metadata: { ...ours.metadata, name: 'speaker-extra' } };
    const unlabelled = {
      metadata: { ...ours.metadata, labels: { ...selectorLabels('speaker'), [LABELS.name]: 'other' } },
    };
    const r = (s: Parameters<typeof discovered>[0], port = MONITORING_PORT_NAME) =>
      relabel(job.relabel_configs, discovered(s, port, 'p', 'node-1'));
    expect(r(webhookService(DEFAULT_NAMESPACE), 'webhook')).toBeUndefined();
    expect(r(foreign)).toBeUndefined();
    expect(r(renamed)).toBeUndefined();
    expect(r(unlabelled)).toBeUndefined();
    expect(r(ours, 'memberlist')).toBeUndefined();
    expect(r(ours)).toBeDefined();
  });

  it('the role endpoints variant reads the port name from endpoints discovery', () => {
    const e = parse(prometheusConfig({ ...options, role: 'endpoints', intervalSeconds: 15 })) as Config;
    expect(e.global.scrape_interval).toBe('15s');
    expect(e.scrape_configs[0]!.kubernetes_sd_configs[0]!.role).toBe('endpoints');
    expect(JSON.stringify(e.scrape_configs[0]!.relabel_configs)).toContain(
      '__meta_kubernetes_endpoint_port_name',
    );
    expect(JSON.stringify(e.scrape_configs[0]!.relabel_configs)).not.toContain('endpointslice');
  });

  it('promtool check config accepts it (with the rules from the chart)', async () => {
    writeFileSync(files.ca, 'not checked by promtool\n');
    writeFileSync(files.token, 'token\n');
    writeFileSync(files.rules, await rulesFromChart(helmPath(), CHART));
    writeFileSync(files.config, prometheusConfig(options));
    expect(checkConfig(files.config)).toEqual({
      code: 0,
      out: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`),
    });
  });

  it('promtool refuses a config whose rules file is missing (the check can fail)', () => {
    const file = join(dir, 'broken.yml');
    writeFileSync(file, prometheusConfig({ ...options, rulesFile: join(dir, 'missing.yaml') }));
    expect(checkConfig(file).code).not.toBe(0);
  });
});

describe('rulesFromChart', () => {
  it("is the chart's PrometheusRule spec: every alert, and promtool check rules accepts it", async () => {
    const text = await rulesFromChart(helmPath(), CHART);
    const groups = (parse(text) as { groups: { name: string; rules: { alert: string }[] }[] }).groups;
    expect(groups.map((g) => g.name)).toEqual(['metallb-ts.rules']);
    expect(groups[0]!.rules.map((r) => r.alert)).toEqual(ALERTS.map((a) => a.alert));
    const file = join(dir, 'chart-rules.yaml');
    writeFileSync(file, text);
    const r = promtool(['check', 'rules', file]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`),
    });
  });

  it('excludePools and the flapping thresholds reach the expressions', async () => {
    const text = await rulesFromChart(helmPath(), CHART, {
      'prometheus.rules.excludePools': ['static', 'legacy'],
      'prometheus.rules.flapping': { owners: 4, window: '30m' },
    });
    const rules = (parse(text) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups[0]!
      .rules;
    const expr = (name: string) => rules.find((r) => r.alert === name)!.expr;
    expect(expr('MetalLBAddressPoolExhausted')).toContain('pool!~"static|legacy"');
    expect(expr('MetalLBAddressPoolUsage95Percent')).toContain('pool!~"static|legacy"');
    expect(expr('MetalLBAddressOwnerFlapping')).toContain('[30m]');
    expect(expr('MetalLBAddressOwnerFlapping')).toMatch(/> 4$/);
  });

  it('names the chart when it cannot render', async () => {
    await expect(rulesFromChart(helmPath(), join(dir, 'no-chart'))).rejects.toThrow(
      /rendering the chart's rules failed/,
    );
  });
});
