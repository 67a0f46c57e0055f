// The lab Prometheus' configuration, as a user's would be: Kubernetes service discovery against
// the API server keeping exactly the metrics Services the one source renders, and the chart's own
// alerting rules (through `helm template`). Pure except `rulesFromChart`, which runs helm.
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import {
  APP_NAME,
  COMPONENTS,
  DEFAULT_NAMESPACE,
  LABELS,
  MONITORING_PORT_NAME,
  type ComponentName,
  type PrometheusServiceAccount,
} from '@metallb-ts/manifests';
import { defaultBinDir, repoRoot } from './paths.js';
import { describeRun, run } from './run.js';

/** Where the lab's Prometheus listens (not a lab port of anything else; in owner.ts' LAB_PORTS). */
export const PROMETHEUS_PORT = 19090;
export const PROMETHEUS_LISTEN = `127.0.0.1:${PROMETHEUS_PORT}`;
/** The lab's Prometheus runs as this ServiceAccount (outside the install namespace, as a user's does). */
export const PROMETHEUS_SERVICE_ACCOUNT: PrometheusServiceAccount = {
  name: 'prometheus',
  namespace: 'monitoring',
};
/**
 * Prometheus and promtool as e2e/scripts/build-prometheus.sh builds them into the binary cache:
 * upstream's, because Debian's package has no Kubernetes service discovery at all.
 */
export function prometheusBin(binDir: string = defaultBinDir()): { prometheus: string; promtool: string } {
  return { prometheus: join(binDir, 'prometheus'), promtool: join(binDir, 'promtool') };
}
/** The command that builds them (cached; a cold build takes minutes). */
export const BUILD_PROMETHEUS = 'bash e2e/scripts/build-prometheus.sh';
export const CHART_DIR = join(repoRoot, 'charts', APP_NAME);
/** Its name in the lab's state file. */
export const PROMETHEUS_PROCESS = 'prometheus';
/** The scrape job; every target's `job` label is then replaced by its Service's name. */
export const SCRAPE_JOB = APP_NAME;

export interface PrometheusConfigOptions {
  /** The API server as seen from where Prometheus runs (e.g. https://198.51.100.1:16443). */
  readonly apiServer: string;
  /** CA bundle the API server's certificate is checked with. */
  readonly caFile: string;
  /** A file holding the ServiceAccount token Prometheus authenticates with. */
  readonly tokenFile: string;
  /** The alerting rules file (see `rulesFromChart`). */
  readonly rulesFile: string;
  /** The install namespace (default metallb-system). */
  readonly namespace?: string;
  /** Kubernetes service discovery role (default endpointslice). */
  readonly role?: 'endpoints' | 'endpointslice';
  /** Scrape and rule evaluation interval in seconds (default 5, for tests). */
  readonly intervalSeconds?: number;
}

/** The `__meta_kubernetes_*` name Prometheus gives a Kubernetes label (invalid characters become `_`). */
export function sdLabel(prefix: string, kubernetesLabel: string): string {
  return `__meta_kubernetes_${prefix}_${kubernetesLabel.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

export const MONITORED: readonly ComponentName[] = Object.keys(COMPONENTS) as ComponentName[];
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * prometheus.yml: one job discovering the install namespace's endpoints, keeping only the metrics
 * Services the one source renders (by their name and component labels, on the monitoring port),
 * and labelling each target as the chart's ServiceMonitors would (`job` = the Service's name,
 * `namespace`, `service`, `endpoint`, `pod`) plus `component` and `node`.
 */
export function prometheusConfig(o: PrometheusConfigOptions): string {
  const role = o.role ?? 'endpointslice';
  const interval = `${o.intervalSeconds ?? 5}s`;
  const port =
    role === 'endpointslice'
      ? '__meta_kubernetes_endpointslice_port_name'
      : '__meta_kubernetes_endpoint_port_name';
  const keep = (sourceLabel: string, regex: string) => ({
    action: 'keep',
    source_labels: [sourceLabel],
    regex,
  });
  const copy = (sourceLabel: string, target: string) => ({
    action: 'replace',
    source_labels: [sourceLabel],
    target_label: target,
  });
  const component = sdLabel('service_label', LABELS.component);
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: [o.rulesFile],
    scrape_configs: [
      {
        job_name: SCRAPE_JOB,
        kubernetes_sd_configs: [
          {
            role,
            api_server: o.apiServer,
            namespaces: { names: [o.namespace ?? DEFAULT_NAMESPACE] },
            tls_config: { ca_file: o.caFile },
            authorization: { type: 'Bearer', credentials_file: o.tokenFile },
          },
        ],
        relabel_configs: [
          keep(sdLabel('service_label', LABELS.name), escapeRegex(APP_NAME)),
          keep(component, MONITORED.map(escapeRegex).join('|')),
          keep(
            '__meta_kubernetes_service_name',
            MONITORED.map((c) => escapeRegex(COMPONENTS[c].metricsService)).join('|'),
          ),
          keep(port, escapeRegex(MONITORING_PORT_NAME)),
          copy('__meta_kubernetes_namespace', 'namespace'),
          copy('__meta_kubernetes_service_name', 'service'),
          copy('__meta_kubernetes_service_name', 'job'),
          copy(port, 'endpoint'),
          copy('__meta_kubernetes_pod_name', 'pod'),
          copy('__meta_kubernetes_pod_node_name', 'node'),
          copy(component, 'component'),
        ],
      },
    ],
  };
  return stringify(config, { lineWidth: 0 });
}

/** `--set-json` flags for chart values given by dotted key. */
export function setJsonFlags(values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`]);
}

/**
 * The chart's alerting rules as a Prometheus rules file: `helm template` with
 * `prometheus.rules.enabled=true` (and `values`), the PrometheusRule's `spec` as it renders.
 */
export async function rulesFromChart(
  helmBin: string,
  chartDir: string = CHART_DIR,
  values: Readonly<Record<string, unknown>> = {},
): Promise<string> {
  const r = await run([
    helmBin,
    'template',
    APP_NAME,
    chartDir,
    '--namespace',
    DEFAULT_NAMESPACE,
    ...setJsonFlags({ 'prometheus.rules.enabled': true, ...values }),
  ]);
  if (r.code !== 0) throw new Error(`rendering the chart's rules failed: ${describeRun(r)}`);
  const objects = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind?: string; spec?: unknown } | null)
    .filter((x) => x !== null);
  const rules = objects.filter((x) => x.kind === 'PrometheusRule');
  if (rules.length !== 1 || rules[0]!.spec === undefined)
    throw new Error(
      `expected one PrometheusRule with a spec in \`helm template\` of ${chartDir}, found ${rules.length} among ${objects.map((x) => x.kind).join(', ')}`,
    );
  return stringify(rules[0]!.spec, { lineWidth: 0 });
}
