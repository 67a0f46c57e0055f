import { afterEach, describe, expect, it } from '@jest/globals';
import { createLogger, KubeError, type Lease } from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { LEASES } from '@metallb-ts/manifests';
import type { TieBreak } from '@metallb-ts/membership';
import { TieBreakLease, type TieBreakApi } from '../src/tie-break-lease.js';

const NS = 'metallb-system';
const TIMING = { leaseDurationMs: 1000, safetyMarginMs: 300, renewIntervalMs: 150, retryIntervalMs: 50 };

interface Side {
  name: string;
  lease: TieBreakLease;
  /** Answers as they changed (onChange), with the monotonic time. */
  answers: { at: number; answer: TieBreak }[];
  logs: { msg: string; [k: string]: unknown }[];
}

const sides: Side[] = [];
afterEach(async () => {
  for (const s of sides.splice(0)) await s.lease.stop();
});

/** `kube` as one speaker reaches it: `cut.value` makes every request fail as a dead link would. */
function link(kube: FakeKube, cut: { value: boolean }): TieBreakApi {
  const guard = <T>(f: () => Promise<T>): Promise<T> =>
    cut.value
      ? Promise.reject(new KubeError({ status: 0, reason: 'NetworkError', message: 'cut off' }))
      : f();
  return {
    get: (ref) => guard(() => kube.get(ref)),
    create: (obj) => guard(() => kube.create(obj)),
    replace: (obj) => guard(() => kube.replace(obj)),
  };
}

function side(name: string, api: TieBreakApi): Side {
  const logs: Side['logs'] = [];
  const s: Side = {
    name,
    answers: [],
    logs,
    lease: undefined as unknown as TieBreakLease,
  };
  s.lease = new TieBreakLease(api, {
    namespace: NS,
    name: LEASES.speakerTieBreak,
    logger: createLogger({
      component: 'speaker',
      level: 'info',
      write: (l) => void logs.push(JSON.parse(l)),
    }),
    onChange: () => s.answers.push({ at: performance.now(), answer: s.lease.answer() }),
    timing: TIMING,
  });
  sides.push(s);
  return s;
}

async function poll(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const holder = (kube: FakeKube) =>
  kube.find<Lease>('Lease', NS, LEASES.speakerTieBreak)?.spec?.holderIdentity;

describe('TieBreakLease', () => {
  it('makes no request while there is no tie', async () => {
    const kube = new FakeKube();
    const a = side('node-a', kube);
    a.lease.want(undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(kube.calls).toEqual([]);
    expect(a.lease.answer()).toBe('unknown');
  });

  it('one side of a tie gets the Lease, the other is denied; the end of the tie hands it over at once', async () => {
    const kube = new FakeKube();
    const a = side('node-a', kube);
    const b = side('node-b', kube);
    a.lease.want('node-a');
    await poll('node-a granted', () => a.lease.answer() === 'granted');
    expect(a.answers.map((x) => x.answer)).toEqual(['granted']);
    expect(holder(kube)).toBe('node-a');
    expect(kube.calls.slice(0, 2)).toEqual([
      `get Lease ${LEASES.speakerTieBreak}`,
      `create Lease ${LEASES.speakerTieBreak}`,
    ]);
    expect(
      a.logs.some(
        (l) =>
          l.msg.startsWith('acquired the tie-break Lease') && l.lease === `${NS}/${LEASES.speakerTieBreak}`,
      ),
    ).toBe(true);

    b.lease.want('node-b');
    await poll('node-b denied', () => b.lease.answer() === 'denied');
    // Renewals keep node-a's hold (and node-b's denial) going well past one lease duration.
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.lease.answer()).toBe('granted');
    expect(b.lease.answer()).toBe('denied');

    const released = performance.now();
    a.lease.want(undefined);
    await poll('node-b granted', () => b.lease.answer() === 'granted');
    // No waiting for the lapse: node-b takes the released Lease on its next attempt.
    expect(performance.now() - released).toBeLessThan(TIMING.leaseDurationMs);
    expect(a.lease.answer()).not.toBe('granted');
    expect(holder(kube)).toBe('node-b');
    expect(a.logs.some((l) => l.msg.startsWith('released the tie-break Lease'))).toBe(true);
  });

  it('a holder cut off from the API server stops answering granted before the other side takes the Lease', async () => {
    const kube = new FakeKube();
    const cutA = { value: false };
    const a = side('node-a', link(kube, cutA));
    const b = side('node-b', kube);
    a.lease.want('node-a');
    await poll('node-a granted', () => a.lease.answer() === 'granted');
    b.lease.want('node-b');
    await poll('node-b denied', () => b.lease.answer() === 'denied');

    cutA.value = true;
    await poll('node-b granted', () => b.lease.answer() === 'granted', 5_000);
    const aLost = a.answers.find((x) => x.answer !== 'granted');
    const bGranted = b.answers.find((x) => x.answer === 'granted')!;
    expect(aLost).toBeDefined();
    // The safety margin separates them (less the timer's and the poll's slack).
    expect(bGranted.at - aLost!.at).toBeGreaterThan(TIMING.safetyMarginMs / 2);
    expect(holder(kube)).toBe('node-b');
    expect(a.logs.some((l) => l.msg.startsWith('lost the tie-break Lease'))).toBe(true);
  });

  it('a hold is for one side of the tie: another side must take the Lease again', async () => {
    const kube = new FakeKube();
    const a = side('node-a', kube);
    a.lease.want('node-a,node-b');
    await poll('granted as node-a,node-b', () => a.lease.answer() === 'granted');
    expect(holder(kube)).toBe('node-a,node-b');
    // node-b is gone from this side: the old hold grants nothing; released and taken as node-a.
    a.lease.want('node-a');
    expect(a.lease.answer()).not.toBe('granted');
    await poll('granted as node-a', () => a.lease.answer() === 'granted');
    expect(holder(kube)).toBe('node-a');
    expect(a.logs.filter((l) => l.msg.startsWith('released the tie-break Lease')).map((l) => l.side)).toEqual(
      ['node-a,node-b'],
    );
  });

  it('stop releases a held Lease and makes no request after', async () => {
    const kube = new FakeKube();
    const a = side('node-a', kube);
    a.lease.want('node-a');
    await poll('node-a granted', () => a.lease.answer() === 'granted');
    await a.lease.stop();
    expect(holder(kube)).toBe('');
    const calls = kube.calls.length;
    a.lease.want('node-a');
    await new Promise((r) => setTimeout(r, 200));
    expect(kube.calls.length).toBe(calls);
  });
});
