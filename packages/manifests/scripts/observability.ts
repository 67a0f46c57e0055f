// What the chart adds for Prometheus and Grafana: the alerting rules (MetalLB's names and
// meaning, plus ours) and the dashboard. Helm expressions appear only where a value is read
// (`excludePools`, the flapping thresholds); everything else is plain data the tests read.

/** One alert as the chart writes it; `expr` may contain `{{ ... }}` reading chart values. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: 'warning' | 'critical' };
  readonly annotations: { readonly summary: string; readonly description: string };
}

/** `pool!~"a|b"` from the `excludePools` value (an empty list excludes nothing: pools are never unnamed). */
const EXCLUDED = `pool!~"{{ join "|" .Values.prometheus.rules.excludePools }}"`;
const usage = (pct: number, severity: 'warning' | 'critical'): AlertRule => ({
  alert: `MetalLBAddressPoolUsage${pct}Percent`,
  expr: `(metallb_allocator_addresses_in_use_total{${EXCLUDED}} / metallb_allocator_addresses_total{${EXCLUDED}}) * 100 > ${pct}`,
  for: '1m',
  labels: { severity },
  annotations: {
    summary: `IP address pool {{ "{{ $labels.pool }}" }} is more than ${pct}% used`,
    description: `Pool {{ "{{ $labels.pool }}" }} has {{ "{{ $value | humanize }}" }}% of its addresses in use.`,
  },
});

export const ALERTS: readonly AlertRule[] = [
  {
    alert: 'MetalLBStaleConfig',
    expr: 'metallb_k8s_client_config_stale_bool == 1',
    for: '1m',
    labels: { severity: 'warning' },
    annotations: {
      summary: '{{ "{{ $labels.job }}" }} runs on a stale configuration',
      description:
        '{{ "{{ $labels.job }}" }} on {{ "{{ $labels.instance }}" }} could not apply the latest configuration and keeps the previous one.',
    },
  },
  {
    alert: 'MetalLBConfigNotLoaded',
    expr: 'metallb_k8s_client_config_loaded_bool == 0',
    for: '1m',
    labels: { severity: 'warning' },
    annotations: {
      summary: '{{ "{{ $labels.job }}" }} has not loaded a configuration',
      description:
        '{{ "{{ $labels.job }}" }} on {{ "{{ $labels.instance }}" }} has no valid configuration yet.',
    },
  },
  {
    alert: 'MetalLBAddressPoolExhausted',
    expr: `metallb_allocator_addresses_in_use_total{${EXCLUDED}} >= metallb_allocator_addresses_total{${EXCLUDED}}`,
    for: '1m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'IP address pool {{ "{{ $labels.pool }}" }} is exhausted',
      description:
        'Pool {{ "{{ $labels.pool }}" }} has no address left: new LoadBalancer Services asking for it stay pending.',
    },
  },
  usage(75, 'warning'),
  usage(85, 'warning'),
  usage(95, 'critical'),
  {
    alert: 'MetalLBNoSpeakerAnnouncing',
    // Addresses are handed out but no speaker says it announces any: nobody answers ARP/NDP.
    expr: 'sum(metallb_allocator_addresses_in_use_total) > 0 unless on() count(metallb_speaker_announced == 1) > 0',
    for: '1m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'LoadBalancer addresses are assigned but no speaker announces them',
      description:
        '{{ "{{ $value }}" }} addresses are in use and no speaker reports announcing any: clients cannot reach them. Check the speaker DaemonSet and its membership leases.',
    },
  },
  {
    alert: 'MetalLBAddressOwnerFlapping',
    // Each node that announced the address within the window is one owner.
    expr: `count by (ip) (max_over_time(metallb_speaker_announced[{{ .Values.prometheus.rules.flapping.window }}]) == 1) > {{ .Values.prometheus.rules.flapping.owners }}`,
    for: '0m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'Address {{ "{{ $labels.ip }}" }} keeps changing owner',
      description:
        'Address {{ "{{ $labels.ip }}" }} was announced by {{ "{{ $value }}" }} nodes within {{ .Values.prometheus.rules.flapping.window }}: its owner flaps (speakers losing membership, nodes flapping Ready).',
    },
  },
  {
    alert: 'MetalLBSpeakerFenced',
    // The speaker's membership verdict: cut off from a majority, declared dead, no gossip key...
    expr: 'metallb_ts_speaker_fenced == 1',
    for: '1m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'The speaker on {{ "{{ $labels.node }}" }} is fenced',
      description:
        'The speaker on {{ "{{ $labels.node }}" }} ({{ "{{ $labels.instance }}" }}) has fenced itself from its membership: it announces no address and its peers took over. Check its gossip port, its key Secret and its logs (membership verdict).',
    },
  },
];

/** A Grafana panel: a title and its PromQL queries with their legends. */
export interface DashboardPanel {
  readonly title: string;
  readonly type: 'timeseries' | 'table' | 'stat';
  readonly unit?: string;
  readonly queries: readonly { readonly expr: string; readonly legend: string }[];
}

export const DASHBOARD_PANELS: readonly DashboardPanel[] = [
  {
    title: 'Pool usage',
    type: 'timeseries',
    unit: 'percent',
    queries: [
      {
        expr: 'sum by (pool) (metallb_allocator_addresses_in_use_total) / sum by (pool) (metallb_allocator_addresses_total) * 100',
        legend: '{{pool}}',
      },
    ],
  },
  {
    title: 'Which node announces which address',
    type: 'table',
    queries: [
      { expr: 'max by (ip, node, service) (metallb_speaker_announced == 1)', legend: '{{ip}} on {{node}}' },
    ],
  },
  {
    title: 'Owner changes (gratuitous ARP/NA bursts) per address',
    type: 'timeseries',
    queries: [{ expr: 'count by (ip) (increase(metallb_layer2_gratuitous_sent[5m]) > 0)', legend: '{{ip}}' }],
  },
  {
    title: 'ARP/NDP requests and replies',
    type: 'timeseries',
    unit: 'reqps',
    queries: [
      { expr: 'sum by (ip) (rate(metallb_layer2_requests_received[5m]))', legend: 'requests {{ip}}' },
      { expr: 'sum by (ip) (rate(metallb_layer2_responses_sent[5m]))', legend: 'replies {{ip}}' },
    ],
  },
  {
    title: 'Configuration loaded / stale',
    type: 'timeseries',
    queries: [
      {
        expr: 'max by (job, instance) (metallb_k8s_client_config_loaded_bool)',
        legend: 'loaded {{instance}}',
      },
      { expr: 'max by (job, instance) (metallb_k8s_client_config_stale_bool)', legend: 'stale {{instance}}' },
    ],
  },
  {
    title: 'Resident memory per component',
    type: 'timeseries',
    unit: 'bytes',
    queries: [
      {
        expr: 'max by (job, instance) (process_resident_memory_bytes{job=~".*(operator|controller|speaker).*"})',
        legend: '{{job}} {{instance}}',
      },
    ],
  },
  {
    title: 'CPU per component',
    type: 'timeseries',
    unit: 'percentunit',
    queries: [
      {
        expr: 'sum by (job, instance) (rate(process_cpu_seconds_total{job=~".*(operator|controller|speaker).*"}[5m]))',
        legend: '{{job}} {{instance}}',
      },
    ],
  },
];

/** The Grafana dashboard model (schema 39) made of `DASHBOARD_PANELS`, two per row. */
/** Metric names in a PromQL expression (ours and the process metrics prom-client exports). */
export function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:metallb|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** Every metric name the alerts and the dashboard query, once each. */
export function queriedMetricNames(): string[] {
  const used = [
    ...ALERTS.map((a) => a.expr),
    ...DASHBOARD_PANELS.flatMap((p) => p.queries.map((q) => q.expr)),
  ].flatMap(metricNames);
  return [...new Set(used)].sort();
}

export function dashboard(): Record<string, unknown> {
  return {
    title: 'metallb-ts',
    uid: 'metallb-ts',
    schemaVersion: 39,
    tags: ['metallb-ts'],
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' }],
    },
    panels: DASHBOARD_PANELS.map((p, i) => ({
      id: i + 1,
      title: p.title,
      type: p.type,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      ...(p.unit ? { fieldConfig: { defaults: { unit: p.unit }, overrides: [] } } : {}),
      targets: p.queries.map((q, j) => ({
        refId: String.fromCharCode(65 + j),
        expr: q.expr,
        legendFormat: q.legend,
        ...(p.type === 'table' ? { instant: true, format: 'table' } : {}),
      })),
    })),
  };
}
