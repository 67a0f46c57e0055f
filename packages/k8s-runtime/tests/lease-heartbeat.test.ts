import { describe, it, expect } from '@jest/globals';
import { LeaseHeartbeat, LeaseMembership } from '../src/lease-heartbeat.js';
import { leaseRef, type Lease } from '../src/lease-elector.js';
import { KubeError } from '../src/kube-error.js';
import { formatMicroTime, parseTimeMs } from '../src/time.js';
import { FakeKube, until } from '../src/testing/index.js';

const ns = 'metallb-system';
const prefix = 'speaker-';

describe('LeaseHeartbeat and LeaseMembership', () => {
  it('sees members join, drops one that stops renewing, and one that leaves', async () => {
    const api = new FakeKube();
    const members = new LeaseMembership(api, { namespace: ns, prefix, checkIntervalMs: 10 });
    const changes: string[][] = [];
    members.onChange((alive) => changes.push([...alive].sort()));
    await members.waitForSync();
    const hb = (id: string) =>
      new LeaseHeartbeat(api, { namespace: ns, prefix, identity: id, renewMs: 50, leaseDurationMs: 1000 });
    const n1 = hb('node-1');
    const n2 = hb('node-2');
    const n3 = hb('node-3');
    await Promise.all([n1.start(), n2.start(), n3.start()]);
    await until(() => members.alive().size === 3, 'three alive');
    const lease = await api.get<Lease>(leaseRef(ns, 'speaker-node-1'));
    expect(lease.spec?.holderIdentity).toBe('node-1');
    expect(lease.spec?.leaseDurationSeconds).toBe(1);

    await n2.stop(); // crash: the lease stays, renewals stop
    await until(() => !members.alive().has('node-2'), 'node-2 expires', 5000);
    expect([...members.alive()].sort()).toEqual(['node-1', 'node-3']);

    await n3.release(); // planned leave: the lease is deleted
    await until(() => !members.alive().has('node-3'), 'node-3 leaves');
    expect(members.alive().has('node-1')).toBe(true);
    expect(changes.at(-1)).toEqual(['node-1']);
    expect(changes.some((c) => c.length === 3)).toBe(true);
    await n1.stop();
    await members.stop();
  });

  it('judges a stale lease found at start-up by its renewTime and ignores other prefixes', async () => {
    const api = new FakeKube();
    const old = formatMicroTime(new Date(Date.now() - 60_000));
    const fresh = formatMicroTime(new Date());
    for (const [name, renewTime] of [
      ['speaker-dead', old],
      ['speaker-live', fresh],
      ['other-live', fresh],
    ] as const) {
      await api.create({
        ...leaseRef(ns),
        metadata: { name, namespace: ns },
        spec: { holderIdentity: name, renewTime, leaseDurationSeconds: 10 },
      });
    }
    const members = new LeaseMembership(api, { namespace: ns, prefix });
    await members.waitForSync();
    expect([...members.alive()]).toEqual(['live']);
    // alive() answers for a given instant too.
    expect(members.alive(Date.now() + 60_000).size).toBe(0);
    await members.stop();
  });
  it('counts a renewal from when it was sent (its renewTime), not from when the answer came', async () => {
    const api = new FakeKube();
    let sentRenewTime = '';
    const slow = {
      create: ((o) => api.create(o)) as FakeKube['create'],
      delete: ((r) => api.delete(r)) as FakeKube['delete'],
      patch: (async (ref, body, opts) => {
        sentRenewTime = (body as { spec: { renewTime: string } }).spec.renewTime;
        await new Promise((r) => setTimeout(r, 150)); // a slow API server
        return api.patch(ref, body, opts);
      }) as FakeKube['patch'],
    };
    await api.create({ ...leaseRef(ns), metadata: { name: 'speaker-n', namespace: ns }, spec: {} });
    const hb = new LeaseHeartbeat(slow, {
      namespace: ns,
      prefix,
      identity: 'n',
      renewMs: 1000,
      leaseDurationMs: 3000,
    });
    await hb.start();
    expect(sentRenewTime).not.toBe('');
    expect(hb.lastRenewed()).toBe(parseTimeMs(sentRenewTime));
    await hb.stop();
  });

  it('gives each renewal at most a period, so a hung request does not block the next one', async () => {
    const api = new FakeKube();
    const budgets: Array<number | undefined> = [];
    let calls = 0;
    const flaky = {
      create: ((o) => api.create(o)) as FakeKube['create'],
      delete: ((r) => api.delete(r)) as FakeKube['delete'],
      patch: ((ref, body, opts) => {
        budgets.push(opts.timeoutMs);
        if (++calls > 1) return api.patch(ref, body, opts);
        // The first request hangs like a half-open connection: only the caller's timeout ends it.
        return new Promise((_, reject) => {
          if (opts.timeoutMs !== undefined)
            setTimeout(
              () => reject(new KubeError({ status: 0, reason: 'Timeout', message: 'no answer' })),
              opts.timeoutMs,
            );
        });
      }) as FakeKube['patch'],
    };
    await api.create({ ...leaseRef(ns), metadata: { name: 'speaker-n', namespace: ns }, spec: {} });
    const hb = new LeaseHeartbeat(flaky, {
      namespace: ns,
      prefix,
      identity: 'n',
      renewMs: 50,
      leaseDurationMs: 1000,
    });
    const started = hb.start();
    await until(() => hb.lastRenewed() > 0, 'a later renewal succeeds', 2000);
    expect(budgets[0]).toBe(50);
    await started;
    await hb.stop();
  });
  it('keeps a member whose clock is far behind alive while it renews, and drops it when it stops', async () => {
    const api = new FakeKube();
    const members = new LeaseMembership(api, { namespace: ns, prefix, checkIntervalMs: 10 });
    await members.waitForSync();
    const skewMs = -120_000; // the peer's clock runs two minutes behind ours
    const renewTime = (): string => formatMicroTime(new Date(Date.now() + skewMs));
    const ref = leaseRef(ns, 'speaker-skewed');
    await api.create({
      ...leaseRef(ns),
      metadata: { name: 'speaker-skewed', namespace: ns },
      spec: { holderIdentity: 'skewed', renewTime: renewTime(), leaseDurationSeconds: 1 },
    });
    const renewals = setInterval(
      () => void api.patch(ref, { spec: { renewTime: renewTime() } }, { type: 'merge' }),
      50,
    );
    try {
      await until(() => members.alive().has('skewed'), 'the skewed member counts as alive', 2000);
      // Still alive well past its lease duration, as long as renewals keep coming.
      await new Promise((r) => setTimeout(r, 1500));
      expect(members.alive().has('skewed')).toBe(true);
    } finally {
      clearInterval(renewals);
    }
    await until(() => !members.alive().has('skewed'), 'the skewed member expires once it stops', 5000);
    await members.stop();
  });

  it('does not let a member whose clock is ahead outlive its renewals', async () => {
    const api = new FakeKube();
    const members = new LeaseMembership(api, { namespace: ns, prefix, checkIntervalMs: 10 });
    await members.waitForSync();
    const ref = leaseRef(ns, 'speaker-ahead');
    const renewTime = (): string => formatMicroTime(new Date(Date.now() + 120_000));
    await api.create({
      ...leaseRef(ns),
      metadata: { name: 'speaker-ahead', namespace: ns },
      spec: { holderIdentity: 'ahead', renewTime: renewTime(), leaseDurationSeconds: 1 },
    });
    await api.patch(ref, { spec: { renewTime: renewTime() } }, { type: 'merge' });
    await until(() => members.alive().has('ahead'), 'the member is alive');
    // Judged from when we saw the renewal, not from its renewTime two minutes ahead.
    await until(() => !members.alive().has('ahead'), 'the member expires a lease duration later', 5000);
    await members.stop();
  });
});
