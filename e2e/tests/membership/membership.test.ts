import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LEASES, MEMBERLIST } from '@metallb-ts/manifests';
import { electNode } from '@metallb-ts/speaker';
import { applyDemo, DEMO_NAMESPACE, waitForIngress } from '../../src/cluster-objects.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { cpus } from 'node:os';
import {
  answerChanges,
  arpAnsweredBy,
  arpWindow,
  cpuHog,
  freezeApiServer,
  httpServedBy,
  killNode,
  reviveLinks,
  sleepUntil,
  startProber,
  twoMacRequests,
  withGossipLoss,
  type ArpWindow,
} from '../../src/failover-probe.js';
import { Lab, labProgressOnStderr } from '../../src/lab.js';
import { readState, signalProcess } from '../../src/processes.js';
import { MGMT_IF } from '../../src/topology.js';

/*
 * The gossip membership in the lab: speakers in node namespaces gossip over their management
 * links (198.51.100.0/26) while they answer ARP on their data links.
 * - the API server frozen (SIGSTOP) for 20 s: the VIP keeps answering (no Lease to fence on);
 * - the owner's gossip path cut (UDP 7946 dropped on its management link) while its data link
 *   works: never two MACs answering one ARP request, and the majority side serves;
 * - node death (speaker SIGKILLed, both links down): the VIP moves within a second or two, also
 *   while kube-apiserver is frozen;
 * - the owner under a CPU hog, then under 5% loss on its gossip link: the address never moves;
 * - the owner's speaker frozen (SIGSTOP) for 10 s: the successor takes over, and the thawed
 *   speaker learns it was declared dead before it answers again: never two MACs;
 * - the owner's speaker stopped as planned (SIGTERM, the graceful leave): not one failed request.
 */

const NODES = ['node-1', 'node-2', 'node-3'];
let cp: ControlPlane;
let lab: Lab;
let vip: string;
let owner: string;
let successor: string;

/** ARP requests every 20 ms for `seconds` from the client; an empty window is a broken probe. */
async function arpRequests(seconds: number): Promise<ArpWindow> {
  const w = await arpWindow(lab, vip, seconds);
  if (w.answers.size === 0) throw new Error(`arping saw no answers in ${seconds} s (${w.requests} requests)`);
  return w;
}

/** The MACs that answered any request of `w`. */
const answeredBy = (w: ArpWindow) => new Set([...w.answers.values()].flatMap((macs) => [...macs]));

/** Waits until ARP for the VIP is answered by `node` alone and HTTP is served by it. */
async function settledOn(node: string, timeoutMs = 30_000): Promise<number> {
  const took = await arpAnsweredBy(lab, vip, node, { timeoutMs, arpingTimeoutMs: 300 });
  await httpServedBy(lab, vip, node, timeoutMs);
  return took;
}

async function iptables(node: string, op: '-A' | '-D'): Promise<void> {
  for (const rule of [
    ['INPUT', '-i', MGMT_IF],
    ['OUTPUT', '-o', MGMT_IF],
  ]) {
    const [chain, dirFlag, dev] = rule as [string, string, string];
    const r = await lab.nsExec(node, [
      'iptables',
      op,
      chain,
      dirFlag,
      dev,
      '-p',
      'udp',
      '--dport',
      String(MEMBERLIST.port),
      '-j',
      'DROP',
    ]);
    if (r.code !== 0) throw new Error(`iptables ${op} ${chain} in ${node}: ${r.stderr}`);
  }
}

beforeAll(async () => {
  cp = labControlPlane();
  lab = await Lab.start({ cp, progress: labProgressOnStderr });
  lab.assertComponentsStarted();
  await applyDemo(cp);
  [vip] = (await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 30_000)) as [string];
  owner = electNode(NODES, vip)!;
  successor = electNode(
    NODES.filter((n) => n !== owner),
    vip,
  )!;
  await lab.step('the owner serves', () => settledOn(owner));
}, 180_000);

afterAll(async () => {
  await lab?.stop();
}, 60_000);

describe('gossip membership in the lab', () => {
  it('speakers make no Lease writes and created no membership Leases', async () => {
    const leases = await cp.kubectlOk(['-n', 'metallb-system', 'get', 'leases', '-o', 'name']);
    // No Lease per speaker; the tie-break Lease is asked only while gossip reports an exact half.
    expect(
      leases.split('\n').filter((l) => l.includes('speaker-') && !l.endsWith(`/${LEASES.speakerTieBreak}`)),
    ).toEqual([]);
  });

  it('with kube-apiserver frozen for 20 s the VIP keeps answering from the owner', async () => {
    const rec = readState(cp.dir).processes['kube-apiserver'];
    expect(rec).toBeDefined();
    expect(signalProcess(rec!, 'SIGSTOP')).toBe(true);
    let failures = 0;
    let served = 0;
    try {
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        await lab.flushClientNeighbours(vip);
        const r = await lab.clientCurl(`http://${vip}/`, { timeoutMs: 1_000 });
        if (r.ok && r.body.trim() === owner) served++;
        else failures++;
      }
    } finally {
      signalProcess(rec!, 'SIGCONT');
    }
    process.stderr.write(
      `[membership] API server frozen 20 s: ${served} requests served, ${failures} failed\n`,
    );
    expect(failures).toBe(0);
    expect(served).toBeGreaterThan(20);
    await lab.step('the API server answers again', () =>
      lab.waitFor('kubectl get nodes', async () => {
        const r = await cp.kubectl(['get', 'nodes']);
        return r.code === 0 ? { done: true, value: r } : { done: false, observed: r.stderr };
      }),
    );
  }, 60_000);

  it("cutting the owner's gossip path: never two MACs per ARP request, and the majority side serves", async () => {
    const watching = arpRequests(8);
    await new Promise((r) => setTimeout(r, 500));
    await iptables(owner, '-A');
    try {
      const window = await watching;
      expect(twoMacRequests(window)).toBe(0);
      // Both sides answered during the window (one after the other): the handover happened.
      expect(answeredBy(window)).toEqual(new Set([lab.nodeMacs.get(owner), lab.nodeMacs.get(successor)]));
      await lab.step('the successor serves while the owner is cut off', () => settledOn(successor, 10_000));
      expect(twoMacRequests(await arpRequests(2))).toBe(0);
    } finally {
      await iptables(owner, '-D');
    }
    // Healed: the owner rejoins and takes its address back, again never with two MACs at once.
    expect(twoMacRequests(await arpRequests(6))).toBe(0);
    await lab.step('the owner serves again after the partition heals', () => settledOn(owner));
  }, 90_000);

  it('node death (speaker SIGKILLed, data and management links down): the VIP moves fast', async () => {
    const t0 = Date.now();
    await killNode(lab, owner);
    let movedMs = 0;
    try {
      await lab.step('the successor answers', async () => {
        await settledOn(successor, 5_000);
        movedMs = Date.now() - t0;
      });
    } finally {
      await reviveLinks(lab, owner);
    }
    process.stderr.write(
      `[membership] node death: successor answers ARP and serves HTTP after ${movedMs} ms\n`,
    );
    expect(movedMs).toBeLessThan(5_000);
    const restarted = await lab.restartSpeaker(owner);
    expect(restarted.ok).toBe(true);
    await lab.step('the restarted owner serves again', () => settledOn(owner));
  }, 90_000);

  it('node death while kube-apiserver is frozen: the successor still takes over at once', async () => {
    const thaw = freezeApiServer(cp);
    let movedMs = 0;
    try {
      const t0 = Date.now();
      await killNode(lab, owner);
      await lab.step('the successor answers with the API server frozen', async () => {
        await settledOn(successor, 5_000);
        movedMs = Date.now() - t0;
      });
    } finally {
      thaw();
      await reviveLinks(lab, owner);
    }
    process.stderr.write(
      `[membership] node death, API server frozen: successor answers ARP and serves HTTP after ${movedMs} ms\n`,
    );
    expect(movedMs).toBeLessThan(5_000);
    const restarted = await lab.restartSpeaker(owner);
    expect(restarted.ok).toBe(true);
    await lab.step('the restarted owner serves again', () => settledOn(owner));
  }, 90_000);

  it('the owner under a CPU hog, then under 5% loss on its gossip link: the address never moves', async () => {
    const FAULT_MS = 12_000;
    const watching = arpRequests((2 * FAULT_MS) / 1000 + 2);
    await cpuHog(owner, cpus().length, FAULT_MS / 1000);
    const lossFrom = Date.now();
    await withGossipLoss(lab, owner, 'E2E_GOSSIP_LOSS', 0.05, () => sleepUntil(lossFrom + FAULT_MS));
    const window = await watching;
    process.stderr.write(
      `[membership] CPU hog then 5% gossip loss: ${answerChanges(window)} owner changes, ${twoMacRequests(window)} two-MAC requests, ${window.requests - window.answers.size} of ${window.requests} ARP requests unanswered\n`,
    );
    expect(answerChanges(window)).toBe(0);
    expect(twoMacRequests(window)).toBe(0);
    expect(answeredBy(window)).toEqual(new Set([lab.nodeMacs.get(owner)]));
  }, 90_000);

  it("the owner's speaker frozen for 10 s: the successor takes over, and thawed it never answers beside it", async () => {
    const frozenAt = Date.now();
    expect(await lab.killSpeaker(owner, 'SIGSTOP')).toBe(true);
    let window: ArpWindow;
    try {
      const took = await lab.step('the successor takes over from the frozen owner', () =>
        settledOn(successor, 5_000),
      );
      process.stderr.write(`[membership] owner frozen: the successor answers ARP after ${took} ms\n`);
      const left = frozenAt + 10_000 - Date.now();
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    } finally {
      // From the thaw on, every ARP request is watched: the thawed speaker must learn that it was
      // declared dead (and rejoin) before it answers for the address again.
      const watching = arpRequests(5);
      await lab.killSpeaker(owner, 'SIGCONT');
      window = await watching;
    }
    process.stderr.write(
      `[membership] after the thaw: ${twoMacRequests(window)} two-MAC requests, ${answerChanges(window)} owner change(s) in ${window.requests} requests\n`,
    );
    expect(twoMacRequests(window)).toBe(0);
    // It may take the address back once it has rejoined (the election prefers it); never back and forth.
    expect(answerChanges(window)).toBeLessThanOrEqual(1);
    await lab.step('the thawed owner serves again', () => settledOn(owner));
  }, 90_000);

  it("the owner's speaker stopped as planned (SIGTERM): the successor serves and not one request fails", async () => {
    // Each GET is given 1 s: a failure is a refused or reset connection or a real stall, not a
    // slow answer on a loaded machine.
    const prober = await startProber(vip, 20, 1_000);
    let hit = 0;
    try {
      await lab.waitFor(
        'the prober to see steady successes from the owner',
        () =>
          prober.successes.filter((s) => s.node === owner).length >= 10
            ? { done: true, value: true }
            : { done: false, observed: prober.successes.slice(-3) },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      hit = Date.now();
      expect(await lab.killSpeaker(owner, 'SIGTERM')).toBe(true);
      await lab.waitFor(
        'the successor to serve 25 requests after the hand-over',
        () =>
          prober.successes.filter((s) => s.t > hit && s.node === successor).length >= 25
            ? { done: true, value: true }
            : { done: false, observed: prober.successes.slice(-3) },
        { timeoutMs: 15_000, intervalMs: 20 },
      );
    } finally {
      await prober.stop();
    }
    const failed = prober.failures.filter((f) => f.t >= hit);
    const moved = prober.successes.find((s) => s.t > hit && s.node === successor)!.t - hit;
    process.stderr.write(
      `[membership] SIGTERM: successor serves after ${moved} ms; ${failed.length} failed request(s)\n`,
    );
    expect(failed).toEqual([]);
    const restarted = await lab.restartSpeaker(owner);
    expect(restarted.ok).toBe(true);
    await lab.step('the restarted owner serves again', () => settledOn(owner));
  }, 90_000);
});
