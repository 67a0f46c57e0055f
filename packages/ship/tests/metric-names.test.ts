// Every metric name the alerts and the dashboard query is one the components register: the
// registries are built the way the binaries build them (k8s-runtime's defaults and client metrics,
// the controller's allocator metrics, the speaker's metrics).
import { describe, expect, it } from '@jest/globals';
import { AllocatorMetrics } from '@metallb-ts/controller';
import { createK8sClientMetrics, createRegistry } from '@metallb-ts/k8s-runtime';
import { metricNames, queriedMetricNames } from '../../manifests/scripts/observability.js';
import { SpeakerMetrics } from '../../speaker/src/speaker-metrics.js';

async function exported(): Promise<Set<string>> {
  const controller = createRegistry();
  createK8sClientMetrics(controller);
  new AllocatorMetrics(controller);
  const speaker = createRegistry();
  createK8sClientMetrics(speaker);
  new SpeakerMetrics(speaker, 'node-1');
  const names = new Set<string>();
  for (const r of [controller, speaker]) for (const m of await r.getMetricsAsJSON()) names.add(m.name);
  return names;
}

describe('metric names used by the alerts and the dashboard', () => {
  it('finds the names in an expression', () => {
    expect(
      metricNames(
        'sum by (pool) (metallb_allocator_addresses_in_use_total{pool!~"x"}) / process_cpu_seconds_total',
      ),
    ).toEqual(['metallb_allocator_addresses_in_use_total', 'process_cpu_seconds_total']);
  });

  it('are all exported by a component', async () => {
    const names = await exported();
    const used = queriedMetricNames();
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });
});
