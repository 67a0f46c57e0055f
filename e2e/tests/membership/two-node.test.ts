import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LEASES } from '@metallb-ts/manifests';
import { electNode } from '@metallb-ts/speaker';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { demoPoolObjects, demoService, DEMO_NAMESPACE, waitForIngress } from '../../src/cluster-objects.js';
import { SPEAKER_METRICS_PORT, speakerName } from '../../src/components.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import {
  arpAnsweredBy,
  arpWindow,
  httpServedBy,
  setLink,
  twoMacRequests,
  type ArpWindow,
} from '../../src/failover-probe.js';
import { Lab, labProgressOnStderr } from '../../src/lab.js';
import { DATA_IF, labNode, MGMT_IF } from '../../src/topology.js';

/*
 * Peers are the nodes that run a speaker Pod, and two nodes fail over through the tie-break Lease.
 * - Only node-1 runs a speaker (node-2 and node-3 are Nodes without one): it is a majority of one
 *   and announces. Counting every Node it would reach 1 of 3 and stay silent.
 * - node-2's speaker joins: two members, no Lease request while they gossip.
 * - node-1 (the lower name, and the owner) dies: node-2 reaches exactly half, takes the tie-break
 *   Lease and takes over (under the static lowest-name rule it never would); never two MACs.
 * - node-1 comes back: the tie ends, node-2 hands the Lease back, node-1 serves again.
 */

const LOW = 'node-1';
const HIGH = 'node-2';
let cp: ControlPlane;
let lab: Lab;
let vip: string;

/** An address of the demo pool that node-1 wins against node-2. */
function lowOwnedAddress(): string {
  for (let i = 200; i <= 220; i++) {
    const ip = `203.0.113.${i}`;
    if (electNode([LOW, HIGH], ip) === LOW) return ip;
  }
  throw new Error('no address of 203.0.113.200-220 is elected to node-1 over node-2');
}

/** Polls ARP for the VIP until `node` alone answers; returns how long that took (ms). */
const answeredBy = (node: string, timeoutMs: number): Promise<number> =>
  arpAnsweredBy(lab, vip, node, { timeoutMs, arpingTimeoutMs: 200 });

const servedBy = (node: string): Promise<void> => httpServedBy(lab, vip, node, 10_000);

/** The tie-break Lease's holder ('' released) and resourceVersion, or undefined when there is none. */
async function tieBreakLease(): Promise<{ holder: string; resourceVersion: string } | undefined> {
  const r = await cp.kubectl([
    '-n',
    INSTALL_NAMESPACE,
    'get',
    'leases.coordination.k8s.io',
    LEASES.speakerTieBreak,
    '-o',
    'json',
  ]);
  if (r.code !== 0) {
    if (/NotFound/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get lease: ${r.stderr}`);
  }
  const l = JSON.parse(r.stdout) as {
    metadata: { resourceVersion: string };
    spec?: { holderIdentity?: string };
  };
  return { holder: l.spec?.holderIdentity ?? '', resourceVersion: l.metadata.resourceVersion };
}

const tieBreakHolder = async (): Promise<string | undefined> => (await tieBreakLease())?.holder;

/** A membership gauge of a speaker, from its /metrics on the node's management address. */
async function members(node: string, status: 'alive' | 'dead' | 'left'): Promise<number> {
  const res = await fetch(`http://${labNode(node).mgmtIp}:${SPEAKER_METRICS_PORT}/metrics`, {
    signal: AbortSignal.timeout(2_000),
  });
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith(`metallb_ts_membership_members{status="${status}"}`));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

beforeAll(async () => {
  cp = labControlPlane();
  // The Lease from an earlier run must not decide this one.
  await cp.kubectlOk([
    '-n',
    INSTALL_NAMESPACE,
    'delete',
    'leases.coordination.k8s.io',
    LEASES.speakerTieBreak,
    '--ignore-not-found',
  ]);
  lab = await Lab.start({ cp, speakers: [LOW], progress: labProgressOnStderr });
  lab.assertComponentsStarted();
  vip = lowOwnedAddress();
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        ...demoPoolObjects(),
        demoService({ name: 'tie', annotations: { 'metallb.io/loadBalancerIPs': vip } }),
      ],
    }),
  });
  await waitForIngress(cp, DEMO_NAMESPACE, 'tie', 30_000);
}, 180_000);

afterAll(async () => {
  await lab?.stop();
}, 60_000);

describe('peers from speaker Pods, and the two-node tie-break', () => {
  it('a Node without a speaker is not a member: the one speaker of three Nodes announces', async () => {
    await lab.step('node-1 answers alone', () => answeredBy(LOW, 15_000));
    await lab.step('node-1 serves', () => servedBy(LOW));
    expect(await members(LOW, 'alive')).toBe(1);
    expect(await members(LOW, 'dead')).toBe(0);
    expect(await tieBreakHolder()).toBeUndefined();
  }, 60_000);

  it('two speakers gossip without touching the tie-break Lease', async () => {
    const r = await lab.startSpeaker(HIGH);
    expect(r.ok).toBe(true);
    await lab.step('both count two members', () =>
      lab.waitFor(
        'node-1 and node-2 to see two members alive',
        async () => {
          const seen = [await members(LOW, 'alive'), await members(HIGH, 'alive').catch(() => NaN)];
          return seen.every((n) => n === 2) ? { done: true, value: seen } : { done: false, observed: seen };
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      ),
    );
    // node-2 starting is a tie for a moment (node-1 knows its Pod before it hears its speaker, and
    // the pair's probes settle into phase): the Lease may be taken then, and is handed back.
    const settled = await lab.step('the tie-break Lease has no holder', () =>
      lab.waitFor(
        'the tie-break Lease to be absent or released',
        async () => {
          const l = await tieBreakLease();
          return !l || l.holder === '' ? { done: true, value: l } : { done: false, observed: l };
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      ),
    );
    const ties = (node: string) =>
      lab
        .logs(speakerName(node), 20_000)
        .split('\n')
        .filter((l) => l.includes('gossip reports a tie')).length;
    process.stderr.write(
      `[two-node] node-2 joining: ties seen by node-1 ${ties(LOW)}, by node-2 ${ties(HIGH)}; Lease ${JSON.stringify(settled)}\n`,
    );
    for (const node of [LOW, HIGH])
      for (const l of lab
        .logs(speakerName(node), 20_000)
        .split('\n')
        .filter((x) => /tie|verdict changed/.test(x))
        .slice(-12))
        process.stderr.write(`[two-node] ${node}: ${l.slice(0, 300)}\n`);
    // Steady state: not one Lease write.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await tieBreakLease()).toEqual(settled);
    await lab.step('node-1 still answers alone', () => answeredBy(LOW, 5_000));
  }, 60_000);

  it('the lower-named owner dies: the other node takes the Lease and the address, never two MACs', async () => {
    const watching: Promise<ArpWindow> = arpWindow(lab, vip, 8);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    await lab.killSpeaker(LOW, 'SIGKILL');
    await setLink(lab, LOW, DATA_IF, false);
    await setLink(lab, LOW, MGMT_IF, false);
    let tookMs = 0;
    try {
      await lab.step('node-2 answers', async () => {
        await answeredBy(HIGH, 10_000);
        tookMs = Date.now() - t0;
      });
      const window = await watching;
      expect(twoMacRequests(window)).toBe(0);
      expect(window.answers.size).toBeGreaterThan(0);
      expect(await tieBreakHolder()).toBe(HIGH);
      // Logged keyed by the Lease.
      const acquired = lab
        .logs(speakerName(HIGH), 5_000)
        .split('\n')
        .flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []))
        .filter((l) => String(l.msg).startsWith('acquired the tie-break Lease'));
      expect(acquired.at(-1)).toMatchObject({
        lease: `${INSTALL_NAMESPACE}/${LEASES.speakerTieBreak}`,
        side: HIGH,
      });
      await lab.step('node-2 serves', () => servedBy(HIGH));
    } finally {
      await setLink(lab, LOW, MGMT_IF, true);
      await setLink(lab, LOW, DATA_IF, true);
    }
    process.stderr.write(`[two-node] node death of ${LOW}: ${HIGH} answers ARP after ${tookMs} ms\n`);
    expect(tookMs).toBeLessThan(5_000);
  }, 60_000);

  it('node-1 comes back: the tie ends, the Lease is handed back, node-1 serves again, never two MACs', async () => {
    const watching = arpWindow(lab, vip, 10);
    const r = await lab.restartSpeaker(LOW);
    expect(r.ok).toBe(true);
    await lab.step('node-1 answers again', () => answeredBy(LOW, 20_000));
    expect(twoMacRequests(await watching)).toBe(0);
    await lab.step('the Lease released', () =>
      lab.waitFor(
        'the tie-break Lease to have no holder',
        async () => {
          const h = await tieBreakHolder();
          return h === '' ? { done: true, value: h } : { done: false, observed: h };
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      ),
    );
    await lab.step('node-1 serves', () => servedBy(LOW));
  }, 60_000);
});
