// Prometheus in the lab, set up the way a user's would find metallb-ts: Kubernetes service
// discovery against the lab's API server as a ServiceAccount bound to the chart's Prometheus
// reader Role, keeping exactly the metrics Services the one source renders, with the chart's
// alerting rules loaded. Upstream's prometheus and promtool (e2e/scripts/build-prometheus.sh) run
// it; the HTTP API reads it (prometheus-client.ts); its files come from prometheus-config.ts.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_NAMESPACE, renderPrometheusReader } from '@metallb-ts/manifests';
import type { ControlPlane } from './control-plane.js';
import { defaultBinDir } from './paths.js';
import { forgetProcess, startProcess, stopProcess, tailFile } from './processes.js';
import { prometheusClient, type Prometheus } from './prometheus-client.js';
import {
  BUILD_PROMETHEUS,
  CHART_DIR,
  PROMETHEUS_LISTEN,
  PROMETHEUS_PROCESS,
  PROMETHEUS_SERVICE_ACCOUNT,
  prometheusBin,
  prometheusConfig,
  rulesFromChart,
} from './prometheus-config.js';
import { describeRun, run } from './run.js';
import { waitFor } from './wait-for.js';

export * from './prometheus-client.js';
export * from './prometheus-config.js';

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
