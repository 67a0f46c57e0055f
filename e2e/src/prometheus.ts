// Prometheus in the lab, set up the way a user's would find metallb-ts: Kubernetes service
// discovery against the lab's API server as a ServiceAccount bound to the chart's Prometheus
// reader Role, keeping exactly the metrics Services the one source renders, with the chart's
// alerting rules loaded. Upstream's prometheus and promtool (e2e/scripts/build-prometheus.sh) run
// it; the HTTP API reads it.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import {
  APP_NAME,
  COMPONENTS,
  DEFAULT_NAMESPACE,
  LABELS,
  MONITORING_PORT_NAME,
  renderPrometheusReader,
  type ComponentName,
  type PrometheusServiceAccount,
} from '@metallb-ts/manifests';
import type { ControlPlane } from './control-plane.js';
import { defaultBinDir, repoRoot } from './paths.js';
import { forgetProcess, startProcess, stopProcess, tailFile, type ProcessRecord } from './processes.js';
import { describeRun, run } from './run.js';
import { waitFor } from './wait-for.js';

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

const MONITORED: readonly ComponentName[] = Object.keys(COMPONENTS) as ComponentName[];
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

/** One sample of an instant query. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface Target {
  readonly labels: Record<string, string>;
  readonly discoveredLabels: Record<string, string>;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
}

export interface Alert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly value: string;
}

export interface Prometheus {
  /** http://<listen> */
  readonly url: string;
  readonly dir: string;
  readonly log: string;
  readonly record: ProcessRecord;
  /** An instant query; throws with the query and Prometheus' error. */
  query(expr: string): Promise<Sample[]>;
  /** Active targets. */
  targets(): Promise<Target[]>;
  /** Pending and firing alerts. */
  alerts(): Promise<Alert[]>;
  /** Polls `expr` until `predicate` holds on its samples (bounded); the error shows the last samples and the targets. */
  waitForQuery(
    expr: string,
    predicate: (samples: Sample[]) => boolean,
    timeoutMs?: number,
  ): Promise<Sample[]>;
  /** Polls the alerts until `predicate` holds (bounded). */
  waitForAlerts(predicate: (alerts: Alert[]) => boolean, timeoutMs?: number): Promise<Alert[]>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** Working folder: config, rules, token, TSDB and log. */
  readonly dir: string;
  readonly cp: ControlPlane;
  /** --web.listen-address (default 127.0.0.1:19090). */
  readonly listen?: string;
  readonly progress?: (line: string) => void;
  /** The install namespace (default metallb-system). */
  readonly namespace?: string;
  /** Chart values for the rules (e.g. `{ 'prometheus.rules.excludePools': ['static'] }`). */
  readonly ruleValues?: Readonly<Record<string, unknown>>;
  /** Where helm, prometheus and promtool are (default: the control plane's build cache). */
  readonly binDir?: string;
  /** The folder whose state file records the process (default: the control plane's, so `down` stops it). */
  readonly stateDir?: string;
  readonly intervalSeconds?: number;
  /** The chart was installed with prometheus.rbac.enabled: it brings the reader Role and binding. */
  readonly readerFromChart?: boolean;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  let parsed: { status?: string; data?: T; error?: string };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new Error(`GET ${url}: HTTP ${res.status}, not JSON: ${body.slice(0, 500)}`);
  }
  if (parsed.status !== 'success' || parsed.data === undefined)
    throw new Error(
      `GET ${url}: HTTP ${res.status} ${parsed.status ?? ''}: ${parsed.error ?? body.slice(0, 500)}`,
    );
  return parsed.data;
}

/** The client side of a running Prometheus's HTTP API. */
export function prometheusClient(
  url: string,
): Pick<Prometheus, 'query' | 'targets' | 'alerts' | 'waitForQuery' | 'waitForAlerts'> {
  const query = async (expr: string): Promise<Sample[]> => {
    const data = await getJson<{
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[];
    }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`).catch((e: unknown) => {
      throw new Error(`query ${expr}: ${e instanceof Error ? e.message : String(e)}`);
    });
    if (data.resultType !== 'vector')
      throw new Error(`query ${expr}: expected a vector, got ${data.resultType}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  const targets = async (): Promise<Target[]> =>
    (await getJson<{ activeTargets: Target[] }>(`${url}/api/v1/targets?state=active`)).activeTargets;
  const alerts = async (): Promise<Alert[]> =>
    (await getJson<{ alerts: Alert[] }>(`${url}/api/v1/alerts`)).alerts;
  const brief = (ts: Target[]) =>
    ts.map(
      (t) => `${t.labels.job ?? '?'} ${t.scrapeUrl} ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`,
    );
  return {
    query,
    targets,
    alerts,
    async waitForQuery(expr, predicate, timeoutMs = 60_000) {
      return waitFor(
        `Prometheus query ${expr} to hold`,
        async () => {
          const samples = await query(expr);
          if (predicate(samples)) return { done: true, value: samples };
          return {
            done: false,
            observed: { samples, targets: brief(await targets().catch(() => [])) },
          };
        },
        { timeoutMs, intervalMs: 1_000 },
      );
    },
    async waitForAlerts(predicate, timeoutMs = 120_000) {
      return waitFor(
        'Prometheus alerts to hold',
        async () => {
          const seen = await alerts();
          return predicate(seen)
            ? { done: true, value: seen }
            : {
                done: false,
                observed: seen.map((a) => `${a.labels.alertname} ${a.state} ${JSON.stringify(a.labels)}`),
              };
        },
        { timeoutMs, intervalMs: 1_000 },
      );
    },
  };
}

/** What `waitForComponentsUp` expects: which components, and the nodes the speakers run on. */
export interface ExpectedTargets {
  readonly operator?: boolean;
  readonly controller?: boolean;
  readonly speakerNodes: readonly string[];
}

/**
 * Waits until `up == 1` for every expected component through the HTTP API: one series per
 * Deployment component (`job` = its metrics Service), one per speaker node (`node` label), and
 * no other series of our jobs. Returns the `up` samples.
 */
export async function waitForComponentsUp(
  p: Pick<Prometheus, 'waitForQuery'>,
  expected: ExpectedTargets,
  timeoutMs = 90_000,
): Promise<Sample[]> {
  const jobs = MONITORED.map((c) => COMPONENTS[c].metricsService);
  const want = [
    ...(expected.operator ? [`${COMPONENTS.operator.metricsService}`] : []),
    ...(expected.controller ? [`${COMPONENTS.controller.metricsService}`] : []),
    ...expected.speakerNodes.map((n) => `${COMPONENTS.speaker.metricsService} ${n}`),
  ].sort();
  const key = (s: Sample) =>
    s.metric.job === COMPONENTS.speaker.metricsService
      ? `${s.metric.job} ${s.metric.node ?? '?'}`
      : (s.metric.job ?? '?');
  return p.waitForQuery(
    `up{job=~"${jobs.join('|')}"}`,
    (samples) =>
      JSON.stringify(samples.map(key).sort()) === JSON.stringify(want) && samples.every((s) => s.value === 1),
    timeoutMs,
  );
}

/** Writes `text` to `path`, readable by its owner only (a token). */
function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Starts Prometheus against the lab: its ServiceAccount (namespace `monitoring`) with a token,
 * bound to the one source's reader Role in the install namespace; the chart's rules; the config
 * checked by promtool (throws with its output); then the server, until /-/ready answers.
 */
export async function startPrometheus(o: StartPrometheusOptions): Promise<Prometheus> {
  const progress = o.progress ?? (() => undefined);
  const listen = o.listen ?? PROMETHEUS_LISTEN;
  const namespace = o.namespace ?? DEFAULT_NAMESPACE;
  const sa = PROMETHEUS_SERVICE_ACCOUNT;
  const binDir = o.binDir ?? defaultBinDir();
  const bins = prometheusBin(binDir);
  for (const b of Object.values(bins))
    if (!existsSync(b)) throw new Error(`${b} is missing: build it with ${BUILD_PROMETHEUS}`);
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const files = {
    config: join(o.dir, 'prometheus.yml'),
    rules: join(o.dir, 'rules.yaml'),
    token: join(o.dir, 'token'),
    log: join(o.dir, 'prometheus.log'),
  };

  progress(
    `prometheus: ServiceAccount ${sa.namespace}/${sa.name}, bound to the reader Role in ${namespace}${o.readerFromChart ? ' (by the chart)' : ''}`,
  );
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: sa.namespace } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa.name, namespace: sa.namespace } },
    // A chart installed with prometheus.rbac.enabled brings the same Role and RoleBinding.
    ...(o.readerFromChart ? [] : renderPrometheusReader(namespace, sa)),
  ];
  await o.cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  const token = (
    await o.cp.kubectlOk(['-n', sa.namespace, 'create', 'token', sa.name, '--duration=24h'])
  ).trim();
  if (token.length === 0)
    throw new Error(`TokenRequest for ${sa.namespace}/${sa.name} returned an empty token`);
  writeSecret(files.token, token);

  writeFileSync(files.rules, await rulesFromChart(join(binDir, 'helm'), CHART_DIR, o.ruleValues));
  writeFileSync(
    files.config,
    prometheusConfig({
      apiServer: o.cp.server.lab,
      caFile: o.cp.caFile,
      tokenFile: files.token,
      rulesFile: files.rules,
      namespace,
      ...(o.intervalSeconds !== undefined ? { intervalSeconds: o.intervalSeconds } : {}),
    }),
  );
  const check = await run([bins.promtool, 'check', 'config', files.config]);
  if (check.code !== 0) throw new Error(`promtool rejects ${files.config}: ${describeRun(check)}`);

  const argv = [
    bins.prometheus,
    `--config.file=${files.config}`,
    `--storage.tsdb.path=${join(o.dir, 'data')}`,
    `--web.listen-address=${listen}`,
    '--storage.tsdb.retention.time=1d',
  ];
  const stateDir = o.stateDir ?? o.cp.dir;
  const record = startProcess(stateDir, PROMETHEUS_PROCESS, argv, files.log);
  const stop = async () => {
    await stopProcess(record);
    forgetProcess(stateDir, PROMETHEUS_PROCESS);
  };
  progress(`prometheus: pid ${record.pid}, http://${listen}, log ${files.log}`);
  const url = `http://${listen}`;
  try {
    await waitFor(
      `Prometheus at ${url}/-/ready`,
      async () => {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        return res.ok ? { done: true, value: undefined } : { done: false, observed: `HTTP ${res.status}` };
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  } catch (e) {
    await stop();
    throw new Error(
      `${e instanceof Error ? e.message : String(e)}\n--- ${files.log} ---\n${tailFile(files.log)}`,
    );
  }
  return {
    url,
    dir: o.dir,
    log: files.log,
    record,
    ...prometheusClient(url),
    stop,
  };
}
