import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LEASES, MEMBERLIST } from '@metallb-ts/manifests';
import { electNode } from '@metallb-ts/speaker';
import { applyDemo, DEMO_NAMESPACE, waitForIngress } from '../../src/cluster-objects.js';
import { attachControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { Lab } from '../../src/lab.js';
import { readState, signalProcess } from '../../src/processes.js';
import { CLIENT_NS, DATA_IF, MGMT_IF } from '../../src/topology.js';

/*
 * The gossip membership in the lab: speakers in node namespaces gossip over their management
 * links (198.51.100.0/26) while they answer ARP on their data links.
 * - the API server frozen (SIGSTOP) for 20 s: the VIP keeps answering (no Lease to fence on);
 * - the owner's gossip path cut (UDP 7946 dropped on its management link) while its data link
 *   works: never two MACs answering one ARP request, and the majority side serves;
 * - node death (speaker SIGKILLed, both links down): the VIP moves within a second or two.
 */

const NODES = ['node-1', 'node-2', 'node-3'];
let cp: ControlPlane;
let lab: Lab;
let vip: string;
let owner: string;
let successor: string;

/** ARP requests every 20 ms for `seconds` from the client: per request, the MACs that answered it. */
async function arpWindow(seconds: number): Promise<Map<number, Set<string>>> {
  const count = Math.round(seconds * 50);
  const r = await lab.nsExec(
    CLIENT_NS,
    ['arping', '-c', String(count), '-W', '0.02', '-w', String(seconds + 2), '-i', DATA_IF, vip],
    seconds * 1000 + 10_000,
  );
  const byIndex = new Map<number, Set<string>>();
  for (const m of r.stdout.matchAll(/bytes from ([0-9a-fA-F:]{17}) .*?index=(\d+)/g)) {
    const i = Number(m[2]);
    const set = byIndex.get(i) ?? new Set<string>();
    set.add(m[1]!.toLowerCase());
    byIndex.set(i, set);
  }
  if (byIndex.size === 0) throw new Error(`arping saw no answers: ${r.stdout}${r.stderr}`);
  return byIndex;
}

const conflicts = (w: Map<number, Set<string>>) => [...w].filter(([, macs]) => macs.size > 1);

/** Waits until ARP for the VIP is answered by `node` alone and HTTP is served by it. */
async function settledOn(node: string, timeoutMs = 30_000): Promise<number> {
  const mac = lab.nodeMacs.get(node)!;
  const t0 = Date.now();
  await lab.waitFor(
    `ARP for ${vip} answered by ${node} (${mac}) only`,
    async () => {
      const r = await lab.clientArping(vip, { count: 1, timeoutMs: 300 });
      return r.macs.length === 1 && r.macs[0] === mac
        ? { done: true, value: r }
        : { done: false, observed: r };
    },
    { timeoutMs, intervalMs: 20 },
  );
  const took = Date.now() - t0;
  await lab.waitFor(
    `HTTP to ${vip} served by ${node}`,
    async () => {
      await lab.flushClientNeighbours(vip);
      const r = await lab.clientCurl(`http://${vip}/`, { timeoutMs: 1_000 });
      return r.ok && r.body.trim() === node ? { done: true, value: r } : { done: false, observed: r };
    },
    { timeoutMs, intervalMs: 100 },
  );
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

async function setLink(node: string, dev: string, up: boolean): Promise<void> {
  const r = await lab.nsExec(node, ['ip', 'link', 'set', dev, up ? 'up' : 'down']);
  if (r.code !== 0) throw new Error(`ip link set ${dev} in ${node}: ${r.stderr}`);
}

beforeAll(async () => {
  const dir = process.env.METALLB_TS_LAB_DIR;
  if (!dir) throw new Error('METALLB_TS_LAB_DIR is not set: run through the e2e jest project');
  cp = attachControlPlane({ dir });
  lab = await Lab.start({ cp, progress: (l) => process.stderr.write(`[lab] ${l}\n`) });
  if (lab.componentErrors.size > 0)
    throw new Error(`components did not start: ${JSON.stringify([...lab.componentErrors])}`);
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
    const rec = readState(process.env.METALLB_TS_LAB_DIR!).processes['kube-apiserver'];
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
    const watching = arpWindow(8);
    await new Promise((r) => setTimeout(r, 500));
    await iptables(owner, '-A');
    let window: Map<number, Set<string>>;
    try {
      window = await watching;
      expect(conflicts(window)).toEqual([]);
      const macs = new Set([...window.values()].flatMap((s) => [...s]));
      // Both sides answered during the window (one after the other): the handover happened.
      expect(macs).toEqual(new Set([lab.nodeMacs.get(owner), lab.nodeMacs.get(successor)]));
      await lab.step('the successor serves while the owner is cut off', () => settledOn(successor, 10_000));
      const again = await arpWindow(2);
      expect(conflicts(again)).toEqual([]);
    } finally {
      await iptables(owner, '-D');
    }
    // Healed: the owner rejoins and takes its address back, again never with two MACs at once.
    const back = arpWindow(6);
    const backWindow = await back;
    expect(conflicts(backWindow)).toEqual([]);
    await lab.step('the owner serves again after the partition heals', () => settledOn(owner));
  }, 90_000);

  it('node death (speaker SIGKILLed, data and management links down): the VIP moves fast', async () => {
    const t0 = Date.now();
    await lab.killSpeaker(owner, 'SIGKILL');
    await setLink(owner, DATA_IF, false);
    await setLink(owner, MGMT_IF, false);
    let movedMs = 0;
    try {
      await lab.step('the successor answers', async () => {
        await settledOn(successor, 5_000);
        movedMs = Date.now() - t0;
      });
    } finally {
      await setLink(owner, MGMT_IF, true);
      await setLink(owner, DATA_IF, true);
    }
    process.stderr.write(
      `[membership] node death: successor answers ARP and serves HTTP after ${movedMs} ms\n`,
    );
    expect(movedMs).toBeLessThan(5_000);
    const restarted = await lab.restartSpeaker(owner);
    expect(restarted.ok).toBe(true);
    await lab.step('the restarted owner serves again', () => settledOn(owner));
  }, 90_000);
});
