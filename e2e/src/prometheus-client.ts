// The lab Prometheus' HTTP API: instant queries, targets and alerts, and bounded waits on them
// whose errors show what was seen.
import { COMPONENTS } from '@metallb-ts/manifests';
import type { ProcessRecord } from './processes.js';
import { MONITORED } from './prometheus-config.js';
import { waitFor } from './wait-for.js';

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
