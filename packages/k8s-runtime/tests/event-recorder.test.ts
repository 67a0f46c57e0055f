import { describe, it, expect } from '@jest/globals';
import { recorder } from '../src/event-recorder.js';
import { createLogger } from '../src/logger.js';
import type { KubeObject } from '../src/types.js';
import { FakeKube } from '../src/testing/index.js';

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name: 'web', uid: 'u-1', resourceVersion: '42' },
};
const events = (api: FakeKube) =>
  [...api.objects.values()].filter((o) => o.kind === 'Event') as Array<KubeObject & Record<string, unknown>>;

describe('recorder', () => {
  it('writes a core/v1 Event with source.component and involvedObject', async () => {
    const api = new FakeKube();
    const rec = recorder(api, {
      component: 'metallb-controller',
      now: () => new Date('2024-01-02T03:04:05.678Z'),
    });
    await rec.emit(service, 'Normal', 'IPAllocated', 'Assigned IP ["203.0.113.10"]');
    const [ev] = events(api);
    expect(ev).toBeDefined();
    expect(ev!.metadata?.namespace).toBe('default');
    expect(ev!.metadata?.name?.startsWith('web.')).toBe(true);
    expect(ev!['involvedObject']).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      namespace: 'default',
      name: 'web',
      uid: 'u-1',
    });
    expect(ev!['source']).toEqual({ component: 'metallb-controller' });
    expect(ev!['reason']).toBe('IPAllocated');
    expect(ev!['type']).toBe('Normal');
    expect(ev!['count']).toBe(1);
    expect(ev!['firstTimestamp']).toBe('2024-01-02T03:04:05Z');
  });

  it('takes the reference from the object itself: apiVersion, kind, namespace, name and uid', async () => {
    const api = new FakeKube();
    const rec = recorder(api, { component: 'metallb-controller' });
    const pool = {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { namespace: 'metallb-system', name: 'b', uid: 'pool-uid-2', generation: 3 },
      spec: { addresses: ['203.0.113.0/30'] },
    };
    await rec.emit(pool, 'Warning', 'InvalidConfiguration', 'IPAddressPool metallb-system/b: overlaps');
    const [ev] = events(api);
    expect(ev!.metadata?.namespace).toBe('metallb-system');
    expect(ev!['involvedObject']).toEqual({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      namespace: 'metallb-system',
      name: 'b',
      uid: 'pool-uid-2',
    });
  });

  it('a recreated object (new uid) gets its own event, not a bump of the old one', async () => {
    const api = new FakeKube();
    const rec = recorder(api, { component: 'c' });
    await rec.emit(service, 'Warning', 'R', 'm');
    await rec.emit({ ...service, metadata: { ...service.metadata, uid: 'u-2' } }, 'Warning', 'R', 'm');
    expect(events(api).map((e) => [(e['involvedObject'] as { uid: string }).uid, e['count']])).toEqual([
      ['u-1', 1],
      ['u-2', 1],
    ]);
  });

  it('a cluster-scoped object: the event goes to default and names no namespace', async () => {
    const api = new FakeKube();
    const rec = recorder(api, { component: 'c' });
    await rec.emit(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'n-1' } },
      'Normal',
      'R',
      'm',
    );
    const [ev] = events(api);
    expect(ev!.metadata?.namespace).toBe('default');
    expect(ev!['involvedObject']).toEqual({ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'n-1' });
  });

  it('an object it cannot reference (no apiVersion) is logged, not written', async () => {
    const api = new FakeKube();
    const lines: string[] = [];
    const rec = recorder(api, {
      component: 'c',
      logger: createLogger({ component: 'test', write: (l) => lines.push(l) }),
    });
    await rec.emit({ kind: 'Service', metadata: { namespace: 'default', name: 'web' } }, 'Normal', 'R', 'm');
    expect(events(api)).toEqual([]);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'error', kind: 'Service', reason: 'R' }),
    ]);
  });

  it('aggregates repeats of the same object, reason and message by bumping count', async () => {
    const api = new FakeKube();
    let t = Date.parse('2024-01-02T03:04:05Z');
    const rec = recorder(api, {
      component: 'metallb-speaker',
      host: 'node-1',
      now: () => new Date((t += 1000)),
    });
    await Promise.all([
      rec.emit(service, 'Normal', 'nodeAssigned', 'announcing from node "node-1" with protocol "layer2"'),
      rec.emit(service, 'Normal', 'nodeAssigned', 'announcing from node "node-1" with protocol "layer2"'),
    ]);
    await rec.emit(service, 'Normal', 'nodeAssigned', 'announcing from node "node-1" with protocol "layer2"');
    await rec.emit(service, 'Warning', 'announceFailed', 'no interface');
    const all = events(api);
    expect(all).toHaveLength(2);
    const assigned = all.find((e) => e['reason'] === 'nodeAssigned')!;
    expect(assigned['count']).toBe(3);
    expect(Date.parse(assigned['lastTimestamp'] as string)).toBeGreaterThan(
      Date.parse(assigned['firstTimestamp'] as string),
    );
    expect(assigned['source']).toEqual({ component: 'metallb-speaker', host: 'node-1' });
  });

  it('starts a new event when the old one expired', async () => {
    const api = new FakeKube();
    const rec = recorder(api, { component: 'c' });
    await rec.emit(service, 'Normal', 'R', 'm');
    const first = events(api)[0]!;
    await api.delete({ apiVersion: 'v1', kind: 'Event', namespace: 'default', name: first.metadata!.name });
    await rec.emit(service, 'Normal', 'R', 'm');
    const all = events(api);
    expect(all).toHaveLength(1);
    expect(all[0]!['count']).toBe(1);
  });

  it('never rejects; failures are logged', async () => {
    const api = new FakeKube();
    api.down = true;
    const lines: string[] = [];
    const rec = recorder(api, {
      component: 'c',
      logger: createLogger({ component: 'test', write: (l) => lines.push(l) }),
    });
    await expect(
      rec.emit(service, 'Warning', 'AllocationFailed', 'pool "a" exhausted'),
    ).resolves.toBeUndefined();
    const logged = lines.map((l) => JSON.parse(l));
    expect(
      logged.some(
        (l) => l.level === 'error' && l.key === 'default/web' && l.error?.reason === 'NetworkError',
      ),
    ).toBe(true);
  });
});
