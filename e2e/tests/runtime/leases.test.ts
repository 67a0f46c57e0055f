import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  LeaseElector,
  LeaseHeartbeat,
  LeaseMembership,
  leaseRef,
  type Kube,
  type Lease,
} from '@metallb-ts/k8s-runtime';
import { captureLogger, closeTestNamespace, eventually, openTestNamespace } from './helpers.js';

let k: Kube;
let ns: string;

beforeAll(async () => ({ k, ns } = await openTestNamespace('rt-leases')), 30_000);
afterAll(() => closeTestNamespace(k, ns));

describe('LeaseElector against a real API server', () => {
  it('elects one leader and hands over on release well before the lease would expire', async () => {
    const log: string[] = [];
    // 60 s leases: a successor that had to wait for expiry would time the test out.
    const make = (identity: string) =>
      new LeaseElector(k, {
        namespace: ns,
        name: 'metallb-controller',
        identity,
        leaseDurationMs: 60_000,
        renewDeadlineMs: 40_000,
        retryPeriodMs: 200,
        onStartedLeading: () => void log.push(`${identity} started`),
        onStoppedLeading: () => void log.push(`${identity} stopped`),
        logger: captureLogger('rt-elector').logger,
      });
    const a = make('controller-a');
    const b = make('controller-b');
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.run(acA.signal);
    await eventually(() => a.isLeader(), 'a leads');
    const runB = b.run(acB.signal);
    await eventually(() => b.leader() === 'controller-a', 'b sees a as leader');
    expect(b.isLeader()).toBe(false);

    await a.release();
    await runA;
    await eventually(() => b.isLeader(), 'b takes over after the release', 10_000);
    const lease = await k.get<Lease>(leaseRef(ns, 'metallb-controller'));
    expect(lease.spec?.holderIdentity).toBe('controller-b');
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(lease.spec?.renewTime).toMatch(/\.\d{6}Z$/);
    acB.abort();
    await runB;
    expect(log).toEqual([
      'controller-a started',
      'controller-a stopped',
      'controller-b started',
      'controller-b stopped',
    ]);
  }, 60_000);
});

describe('LeaseHeartbeat and LeaseMembership against a real API server', () => {
  it('tracks members, drops one that stops renewing and one that leaves', async () => {
    const prefix = 'speaker-';
    const { logger, lines } = captureLogger('rt-membership');
    const members = new LeaseMembership(k, { namespace: ns, prefix, checkIntervalMs: 100, logger });
    const changes: string[][] = [];
    members.onChange((alive) => changes.push([...alive].sort()));
    await members.waitForSync();
    const beat = (identity: string) =>
      new LeaseHeartbeat(k, { namespace: ns, prefix, identity, renewMs: 300, leaseDurationMs: 2000, logger });
    const nodes = ['node-1', 'node-2', 'node-3'].map(beat);
    await Promise.all(nodes.map((n) => n.start()));
    await eventually(
      () => members.alive().size === 3,
      'three members alive',
      10_000,
      () => lines.slice(-5),
    );

    const lease = await k.get<Lease>(leaseRef(ns, 'speaker-node-2'));
    expect(lease.spec?.holderIdentity).toBe('node-2');
    expect(lease.spec?.leaseDurationSeconds).toBe(2);
    expect(lease.spec?.renewTime).toMatch(/\.\d{6}Z$/);

    // node-2 stops renewing (like SIGKILL): the lease stays but goes stale.
    await nodes[1]!.stop();
    await eventually(() => !members.alive().has('node-2'), 'node-2 expires', 10_000);
    expect([...members.alive()].sort()).toEqual(['node-1', 'node-3']);
    // The Lease object is still there: death was detected from missing renewals, not deletion.
    await expect(k.get(leaseRef(ns, 'speaker-node-2'))).resolves.toBeDefined();

    // node-3 leaves on purpose: its lease is deleted and it drops out at once.
    await nodes[2]!.release();
    await eventually(() => !members.alive().has('node-3'), 'node-3 leaves', 5_000);
    expect(changes.at(-1)).toEqual(['node-1']);
    expect(lines.some((l) => l['msg'] === 'membership changed')).toBe(true);

    // node-2 comes back.
    await nodes[1]!.start();
    await eventually(() => members.alive().has('node-2'), 'node-2 rejoins', 10_000);

    await nodes[0]!.release();
    await nodes[1]!.release();
    await members.stop();
  }, 60_000);
});
