import { describe, it, expect } from '@jest/globals';
import { LeaseElector, leaseRef, type Lease } from '../src/lease-elector.js';
import { KubeError } from '../src/kube-error.js';
import type { CallOptions } from '../src/kube.js';
import type { ObjectRef } from '../src/types.js';
import { FakeKube, until } from '../src/testing/index.js';

function elector(
  api: FakeKube,
  identity: string,
  log: string[],
  timing = { leaseDurationMs: 400, renewDeadlineMs: 200, retryPeriodMs: 20 },
) {
  return new LeaseElector(api, {
    namespace: 'metallb-system',
    name: 'metallb-controller',
    identity,
    ...timing,
    onStartedLeading: () => void log.push(`${identity} started`),
    onStoppedLeading: () => void log.push(`${identity} stopped`),
  });
}

describe('LeaseElector', () => {
  it('one of two candidates leads; release hands over to the other without waiting for expiry', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    // A long lease: a handover that waited for expiry would not happen within the test.
    const slow = { leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 20 };
    const a = elector(api, 'a', log, slow);
    const b = elector(api, 'b', log, slow);
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.run(acA.signal);
    await until(() => a.isLeader(), 'a leads');
    const runB = b.run(acB.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.isLeader()).toBe(false);
    expect(b.leader()).toBe('a');

    await a.release();
    await runA;
    await until(() => b.isLeader(), 'b takes over');
    expect(a.isLeader()).toBe(false);
    const lease = await api.get<Lease>(leaseRef('metallb-system', 'metallb-controller'));
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(lease.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    acB.abort();
    await runB;
    expect(log).toEqual(['a started', 'a stopped', 'b started', 'b stopped']);
  });

  it('a follower takes over when the leader stops renewing', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    // a reaches the API through a link we can cut: it then cannot renew, like a partitioned node.
    let cut = false;
    const link = {
      get: ((ref) =>
        cut
          ? Promise.reject(new KubeError({ status: 0, reason: 'NetworkError', message: 'cut' }))
          : api.get(ref)) as FakeKube['get'],
      create: ((o) =>
        cut
          ? Promise.reject(new KubeError({ status: 0, reason: 'NetworkError', message: 'cut' }))
          : api.create(o)) as FakeKube['create'],
      replace: ((o) =>
        cut
          ? Promise.reject(new KubeError({ status: 0, reason: 'NetworkError', message: 'cut' }))
          : api.replace(o)) as FakeKube['replace'],
    };
    const a = new LeaseElector(link, {
      namespace: 'metallb-system',
      name: 'metallb-controller',
      identity: 'a',
      leaseDurationMs: 400,
      renewDeadlineMs: 200,
      retryPeriodMs: 20,
      onStartedLeading: () => void log.push('a started'),
      onStoppedLeading: () => void log.push('a stopped'),
    });
    const b = elector(api, 'b', log);
    const acA = new AbortController();
    const runA = a.run(acA.signal);
    await until(() => a.isLeader(), 'a leads');
    cut = true;
    const acB = new AbortController();
    const runB = b.run(acB.signal);
    await until(() => b.isLeader(), 'b takes over after expiry', 5000);
    expect(a.isLeader()).toBe(false);
    // The renew deadline is shorter than the lease: the cut-off leader stops before anyone else starts.
    expect(log).toEqual(['a started', 'a stopped', 'b started']);
    acA.abort();
    acB.abort();
    await Promise.all([runA, runB]);
  });

  it('steps down after the renew deadline when the API is unreachable', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const a = elector(api, 'a', log);
    const ac = new AbortController();
    const run = a.run(ac.signal);
    await until(() => a.isLeader(), 'a leads');
    api.down = true;
    await until(() => !a.isLeader(), 'a steps down');
    expect(log).toEqual(['a started', 'a stopped']);
    api.down = false;
    await until(() => a.isLeader(), 'a leads again once the API is back');
    ac.abort();
    await run;
  });

  it('steps down at the renew deadline while a renewal hangs, before a follower can lead', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    // a's link can be made to hang: requests neither answer nor time out (a half-open socket
    // whose client-side timeout never fires). Only a's own deadline timer can end its reign.
    let hang = false;
    const hung: Array<() => void> = [];
    const budgets: number[] = [];
    const via =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        const opts = args.at(-1) as { timeoutMs?: number } | undefined;
        if (typeof opts?.timeoutMs === 'number') budgets.push(opts.timeoutMs);
        if (!hang) return call(...args);
        return new Promise<R>((_, reject) =>
          hung.push(() => reject(new KubeError({ status: 0, reason: 'NetworkError', message: 'reset' }))),
        );
      };
    const link = {
      get: via((ref: ObjectRef, _o?: CallOptions) => api.get<Lease>(ref)) as FakeKube['get'],
      create: via((obj: Lease, _o?: CallOptions) => api.create(obj)) as FakeKube['create'],
      replace: via((obj: Lease, _o?: CallOptions) => api.replace(obj)) as FakeKube['replace'],
    };
    const timing = { leaseDurationMs: 400, renewDeadlineMs: 200, retryPeriodMs: 20 };
    let aLeadingWhenBStarted: boolean | undefined;
    const a = new LeaseElector(link, {
      namespace: 'metallb-system',
      name: 'metallb-controller',
      identity: 'a',
      ...timing,
      onStartedLeading: () => void log.push('a started'),
      onStoppedLeading: () => void log.push('a stopped'),
    });
    const b = new LeaseElector(api, {
      namespace: 'metallb-system',
      name: 'metallb-controller',
      identity: 'b',
      ...timing,
      onStartedLeading: () => {
        aLeadingWhenBStarted = a.isLeader();
        log.push('b started');
      },
      onStoppedLeading: () => void log.push('b stopped'),
    });
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.run(acA.signal);
    let runB: Promise<void> | undefined;
    try {
      await until(() => a.isLeader(), 'a leads');
      await until(() => budgets.length >= 4, 'a renews a few times');
      // While leading, each request may take at most a retry period (and never past the deadline).
      expect(Math.max(...budgets.slice(2))).toBeLessThanOrEqual(timing.retryPeriodMs);
      hang = true;
      runB = b.run(acB.signal);
      await until(() => !a.isLeader(), 'a steps down although its renewal never returns', 2000);
      expect(hung.length).toBeGreaterThan(0);
      await until(() => b.isLeader(), 'b takes over after expiry', 5000);
      expect(aLeadingWhenBStarted).toBe(false);
      expect(log).toEqual(['a started', 'a stopped', 'b started']);
    } finally {
      // Let a's stuck request fail so its loop (and release) can finish.
      hang = false;
      for (const fail of hung.splice(0)) fail();
      acA.abort();
      acB.abort();
      await Promise.all([runA, runB]);
    }
  });

  it('writes its owner on the Lease it creates, and on a Lease it takes that had none', async () => {
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'controller', uid: 'u-deploy' };
    const candidate = (api: FakeKube, identity: string) =>
      new LeaseElector(api, {
        namespace: 'metallb-system',
        name: 'metallb-controller',
        identity,
        leaseDurationMs: 60_000,
        renewDeadlineMs: 30_000,
        retryPeriodMs: 20,
        ownerReferences: [owner],
        onStartedLeading: () => {},
        onStoppedLeading: () => {},
      });
    const fresh = new FakeKube();
    const a = candidate(fresh, 'a');
    const ac = new AbortController();
    const run = a.run(ac.signal);
    await until(() => a.isLeader(), 'a leads');
    expect(
      fresh.find<Lease>('Lease', 'metallb-system', 'metallb-controller')?.metadata?.ownerReferences,
    ).toEqual([owner]);
    ac.abort();
    await run;

    // A Lease left by a version without owners (released: empty holder) is taken and adopted.
    const old = new FakeKube();
    old.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'metallb-controller', namespace: 'metallb-system' },
      spec: { holderIdentity: '', leaseDurationSeconds: 1 },
    } as Lease);
    const b = candidate(old, 'b');
    const ac2 = new AbortController();
    const run2 = b.run(ac2.signal);
    await until(() => b.isLeader(), 'b leads');
    const lease = old.find<Lease>('Lease', 'metallb-system', 'metallb-controller');
    expect(lease?.metadata?.ownerReferences).toEqual([owner]);
    expect(lease?.spec?.holderIdentity).toBe('b');
    ac2.abort();
    await run2;
  });

  it('without owners leaves the Lease without ownerReferences', async () => {
    const api = new FakeKube();
    const a = elector(api, 'a', []);
    const ac = new AbortController();
    const run = a.run(ac.signal);
    await until(() => a.isLeader(), 'a leads');
    expect(api.find<Lease>('Lease', 'metallb-system', 'metallb-controller')?.metadata).not.toHaveProperty(
      'ownerReferences',
    );
    ac.abort();
    await run;
  });

  it('rejects a renew deadline not shorter than the lease', () => {
    expect(() =>
      elector(new FakeKube(), 'x', [], { leaseDurationMs: 100, renewDeadlineMs: 100, retryPeriodMs: 10 }),
    ).toThrow();
  });
});
