import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { recorder, type Kube, type LooseKubeObject } from '@metallb-ts/k8s-runtime';
import { captureLogger, closeTestNamespace, openTestNamespace } from './helpers.js';

let k: Kube;
let ns: string;

beforeAll(async () => ({ k, ns } = await openTestNamespace('rt-events')), 30_000);
afterAll(() => closeTestNamespace(k, ns));

describe('EventRecorder against a real API server', () => {
  it('writes core/v1 Events and aggregates repeats by count', async () => {
    const svc = await k.create<LooseKubeObject>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: ns, name: 'web' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    const { logger, lines } = captureLogger('rt-events');
    const rec = recorder(k, { component: 'metallb-controller', logger });
    await rec.emit(svc, 'Normal', 'IPAllocated', 'Assigned IP ["203.0.113.10"]');
    await rec.emit(svc, 'Normal', 'IPAllocated', 'Assigned IP ["203.0.113.10"]');
    await Promise.all([
      rec.emit(svc, 'Normal', 'IPAllocated', 'Assigned IP ["203.0.113.10"]'),
      rec.emit(
        svc,
        'Warning',
        'AllocationFailed',
        'Failed to allocate IP for "web": no available IPs in pool "a"',
      ),
    ]);
    const events = await k.list<LooseKubeObject>(
      { apiVersion: 'v1', kind: 'Event', namespace: ns },
      { fieldSelector: `involvedObject.name=web` },
    );
    expect(lines.filter((l) => l['level'] === 'error')).toEqual([]);
    expect(events).toHaveLength(2);
    const allocated = events.find((e) => e['reason'] === 'IPAllocated')!;
    expect(allocated['count']).toBe(3);
    expect(allocated['type']).toBe('Normal');
    expect(allocated['source']).toEqual({ component: 'metallb-controller' });
    expect(allocated['involvedObject']).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      name: 'web',
      namespace: ns,
      uid: svc.metadata?.uid,
    });
    const failed = events.find((e) => e['reason'] === 'AllocationFailed')!;
    expect(failed['type']).toBe('Warning');
    expect(failed['count']).toBe(1);
  }, 30_000);

  it('logs instead of throwing when the write is refused', async () => {
    const { logger, lines } = captureLogger('rt-events');
    const rec = recorder(k, { component: 'metallb-controller', logger });
    // The namespace does not exist, so the API refuses the Event.
    await expect(
      rec.emit(
        { apiVersion: 'v1', kind: 'Service', metadata: { namespace: `${ns}-missing`, name: 'x' } },
        'Normal',
        'R',
        'm',
      ),
    ).resolves.toBeUndefined();
    expect(lines.some((l) => l['level'] === 'error' && l['msg'] === 'recording event failed')).toBe(true);
  });
});
