import { describe, expect, it } from '@jest/globals';
import { KubeError, type KubeObject } from '@metallb-ts/k8s-runtime';
import { MEMBERLIST, selectorLabels } from '@metallb-ts/manifests';
import { electNode } from '../src/election.js';
import { GossipMembershipPort } from '../src/gossip-membership.js';
import type { MembershipPort, MembershipSnapshot } from '../src/membership-port.js';
import {
  cluster,
  eventually,
  events,
  MACS,
  NS,
  startSpeaker,
  stopped,
  VIP,
  type MembershipFactory,
} from './speaker-harness.js';

/*
 * Speakers on the default membership (gossip over UDP on loopback addresses of their own), one
 * FakeKube as the API server: the control plane can go away and the data plane stays.
 */

const NODES = ['node-a', 'node-b', 'node-c'] as const;
const ADDRESS: Record<string, string> = {
  'node-a': '127.0.0.1',
  'node-b': '127.0.0.2',
  'node-c': '127.0.0.3',
};

function gossip(udpPort: number): MembershipFactory {
  return (kube, node, { logger, registry, events }) =>
    ({ nodes }) =>
      new GossipMembershipPort({
        nodeName: node,
        namespace: NS,
        secret: MEMBERLIST.secret,
        port: udpPort,
        bindAddress: ADDRESS[node]!,
        kube,
        speakerLabels: selectorLabels('speaker'),
        nodes,
        logger,
        registry,
        events,
      });
}

function gossipCluster() {
  const kube = cluster(NODES, ADDRESS);
  kube.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: MEMBERLIST.secret, namespace: NS },
    data: { [MEMBERLIST.key]: Buffer.alloc(32, 9).toString('base64') },
  } as KubeObject);
  return kube;
}

const winner = electNode(NODES, VIP)!;

describe('Speaker on the gossip membership', () => {
  it('one node answers; with the API server down it keeps answering (no Lease to fence on)', async () => {
    const kube = gossipCluster();
    const membership = gossip(20_000 + Math.floor(Math.random() * 20_000));
    const rs = await Promise.all(NODES.map((n) => startSpeaker(kube, n, membership)));
    const w = rs.find((r) => r.node === winner)!;
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([MACS[winner]]));
    for (const r of rs) if (r !== w) expect(r.link.arpFrom(VIP, 'reply', r.link.ask(VIP))).toEqual([]);
    expect(w.speaker.ready).toBe(true);

    kube.down = true;
    // Three times the Lease fencing delay (1.5 s here): still answering.
    const until = Date.now() + 4_500;
    while (Date.now() < until) {
      expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([MACS[winner]]);
      await new Promise((r) => setTimeout(r, 250));
    }
    // ...and fails over among themselves: the winner leaves, another node answers.
    await w.speaker.stop();
    stopped(w);
    const rest = rs.filter((r) => r !== w);
    const next = electNode(
      NODES.filter((n) => n !== winner),
      VIP,
    )!;
    const n = rest.find((r) => r.node === next)!;
    await eventually(() => expect(n.link.arpFrom(VIP, 'reply', n.link.ask(VIP))).toEqual([MACS[next]]));
    kube.down = false;
  }, 30_000);
});

describe('a speaker joins the membership only once it can serve', () => {
  it('started while its config cannot be read, it stays out: the address keeps being answered by the node that has it', async () => {
    // Peers hand an address over the moment they see its winner join. A winner that joined
    // before its caches synced made them stop while it could not yet announce: 2.3 s of silence
    // in a soak run where kube-apiserver restarted as a speaker started.
    const kube = gossipCluster();
    const membership = gossip(20_000 + Math.floor(Math.random() * 20_000));
    const others = await Promise.all(
      NODES.filter((n) => n !== winner).map((n) => startSpeaker(kube, n, membership)),
    );
    const answering = () => others.flatMap((r) => r.link.arpFrom(VIP, 'reply', r.link.ask(VIP))).sort();
    const holder = electNode(
      NODES.filter((n) => n !== winner),
      VIP,
    )!;
    await eventually(() => expect(answering()).toEqual([MACS[holder]]));

    // The winner's pools cannot be read (its list fails as on a restarting API server); its
    // Secret, Pods and Nodes can, so it could join the gossip.
    let poolsReadable = false;
    const gated = new Proxy(kube, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'listWithVersion' || typeof value !== 'function') return value;
        return (ref: { kind: string }, ...rest: unknown[]) => {
          if (ref.kind === 'IPAddressPool' && !poolsReadable)
            return Promise.reject(
              new KubeError({ status: 0, reason: 'NetworkError', message: 'ECONNREFUSED' }),
            );
          return (value as (...a: unknown[]) => unknown).call(receiver, ref, ...rest);
        };
      },
    });
    const starting = startSpeaker(gated, winner, membership);
    try {
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        expect(answering()).toEqual([MACS[holder]]);
        await new Promise((r) => setTimeout(r, 100));
      }
      poolsReadable = true;
      const w = await starting;
      await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([MACS[winner]]));
      await eventually(() => expect(answering()).toEqual([]));
    } finally {
      poolsReadable = true;
      for (const r of [await starting, ...others]) {
        await r.speaker.stop();
        stopped(r);
      }
    }
  }, 30_000);
});

/** A port the test drives: the seam the election reads. */
class FakePort implements MembershipPort {
  snap: MembershipSnapshot = { alive: new Set(), verdict: { state: 'holding', reason: 'test' } };
  /** How often the speaker has read a snapshot. */
  reads = 0;
  private readonly listeners: (() => void)[] = [];
  start = async () => {};
  stop = async () => {};
  readiness = () => ({ ready: this.snap.verdict.state !== 'fenced' });
  snapshot = () => {
    this.reads++;
    return this.snap;
  };
  onChange(l: () => void) {
    this.listeners.push(l);
  }
  set(snap: MembershipSnapshot) {
    this.snap = snap;
    for (const l of this.listeners) l();
  }
}

describe('Speaker on a membership port it is handed', () => {
  it('answers only while the verdict is alive; the alive set decides the election', async () => {
    const port = new FakePort();
    const kube = cluster(['node-a', 'node-b']);
    const node = electNode(['node-a', 'node-b'], VIP)!;
    const other = node === 'node-a' ? 'node-b' : 'node-a';
    const r = await startSpeaker(kube, node, () => () => port);
    const asked = () => r.link.arpFrom(VIP, 'reply', r.link.ask(VIP));
    expect(asked()).toEqual([]);
    expect(r.speaker.ready).toBe(true);

    port.set({ alive: new Set([other]), verdict: { state: 'alive', reason: 'test' } });
    await eventually(() => expect(asked()).toEqual([MACS[node]]));
    port.set({ alive: new Set([other]), verdict: { state: 'fenced', reason: 'cut off' } });
    await eventually(() => expect(asked()).toEqual([]));
    expect(r.speaker.ready).toBe(false);
    expect(r.logs).toContainEqual(
      expect.objectContaining({ msg: 'membership verdict: fenced', reason: 'cut off' }),
    );
    port.set({ alive: new Set([other]), verdict: { state: 'alive', reason: 'back' } });
    await eventually(() => expect(asked()).toEqual([MACS[node]]));
  });
});

describe('a fence is not written to the API unless it outlasts the status grace', () => {
  const node = electNode(['node-a', 'node-b'], VIP)!;
  const other = node === 'node-a' ? 'node-b' : 'node-a';
  const alive: MembershipSnapshot = { alive: new Set([other]), verdict: { state: 'alive', reason: 'test' } };
  const fenced: MembershipSnapshot = {
    alive: new Set([other]),
    verdict: { state: 'fenced', reason: 'gossip blip' },
  };
  const statusWrites = (calls: string[]) => calls.filter((c) => c.includes('ServiceL2Status'));
  const statusNodes = (kube: ReturnType<typeof cluster>) =>
    [...kube.objects.values()]
      .filter((o) => o.kind === 'ServiceL2Status')
      .map((o) => (o as { status?: { node?: string } }).status?.node);
  const assigned = () => events.filter((e) => e.reason === 'nodeAssigned' && e.name === 'web').length;

  async function announcing(graceMs: number) {
    const port = new FakePort();
    const kube = cluster(['node-a', 'node-b']);
    const r = await startSpeaker(kube, node, () => () => port, undefined, { statusGraceMs: graceMs });
    const asked = () => r.link.arpFrom(VIP, 'reply', r.link.ask(VIP));
    port.set(alive);
    await eventually(() => expect(asked()).toEqual([MACS[node]]));
    await eventually(() => expect(statusNodes(kube)).toEqual([node]));
    await eventually(() => expect(assigned()).toBe(1));
    kube.calls = [];
    return { port, kube, asked };
  }

  it('a short fence silences the node at once, yet rewrites no ServiceL2Status and emits no event', async () => {
    const { port, kube, asked } = await announcing(60_000);
    const reads = port.reads;
    port.set(fenced);
    await eventually(() => expect(asked()).toEqual([]));
    // Both keys have looked at the fenced snapshot: the recompute and the status pass.
    await eventually(() => expect(port.reads).toBeGreaterThanOrEqual(reads + 2));
    port.set(alive);
    await eventually(() => expect(asked()).toEqual([MACS[node]]));
    await eventually(() => expect(port.reads).toBeGreaterThanOrEqual(reads + 4));
    expect(statusWrites(kube.calls)).toEqual([]);
    expect(statusNodes(kube)).toEqual([node]);
    expect(assigned()).toBe(1);
  });

  it('a fence longer than the grace deletes the object after the grace; announcing again claims it anew', async () => {
    const { port, kube, asked } = await announcing(300);
    const t0 = Date.now();
    port.set(fenced);
    await eventually(() => expect(asked()).toEqual([]));
    await eventually(() => expect(statusNodes(kube)).toEqual([]));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    port.set(alive);
    await eventually(() => expect(statusNodes(kube)).toEqual([node]));
    await eventually(() => expect(assigned()).toBe(2));
  });
});
