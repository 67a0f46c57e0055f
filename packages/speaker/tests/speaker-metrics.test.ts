import { describe, expect, it } from '@jest/globals';
import { createRegistry } from '@metallb-ts/k8s-runtime';
import { SpeakerMetrics } from '../src/speaker-metrics.js';

async function announcedSeries(registry: ReturnType<typeof createRegistry>): Promise<string[]> {
  const metric = registry.getSingleMetric('metallb_speaker_announced');
  const { values } = await metric!.get();
  return values.map((v) => `${v.labels.ip} ${v.labels.service}=${v.value}`).sort();
}

describe('SpeakerMetrics.announced', () => {
  it('removes the series of a service that stops sharing an IP, keeps the one that stays', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new SpeakerMetrics(registry, 'node-1');
    m.announced('203.0.113.10', [], ['a/x', 'a/y']);
    expect(await announcedSeries(registry)).toEqual(['203.0.113.10 a/x=1', '203.0.113.10 a/y=1']);
    m.announced('203.0.113.10', ['a/x', 'a/y'], ['a/y']);
    expect(await announcedSeries(registry)).toEqual(['203.0.113.10 a/y=1']);
    m.announced('203.0.113.10', ['a/y'], []);
    expect(await announcedSeries(registry)).toEqual([]);
  });
});

describe('SpeakerMetrics.verdict', () => {
  const fenced = async (registry: ReturnType<typeof createRegistry>) =>
    (await registry.getSingleMetric('metallb_ts_speaker_fenced')!.get()).values.map(
      (v) => `${v.labels.node}=${v.value}`,
    );

  it('is 1 only while the verdict is fenced, with the node', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new SpeakerMetrics(registry, 'node-1');
    m.verdict('holding');
    expect(await fenced(registry)).toEqual(['node-1=0']);
    m.verdict('fenced');
    expect(await fenced(registry)).toEqual(['node-1=1']);
    m.verdict('alive');
    expect(await fenced(registry)).toEqual(['node-1=0']);
  });
});
