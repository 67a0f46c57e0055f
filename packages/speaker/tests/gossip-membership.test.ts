import { afterEach, describe, expect, it } from '@jest/globals';
import {
  createLogger,
  createRegistry,
  type EventRecorder,
  type KubeObject,
  type Registry,
} from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { LEASES, MEMBERLIST, selectorLabels } from '@metallb-ts/manifests';
import { Membership } from '@metallb-ts/membership';
import { GossipMembershipPort, nodeAddress, verdictOf } from '../src/gossip-membership.js';
import { keysFromSecret, KeyRing } from '../src/membership-keys.js';

const NS = 'metallb-system';
const WHERE = `${NS}/${MEMBERLIST.secret}`;
const K1 = Buffer.alloc(32, 1);
const K2 = Buffer.alloc(32, 2);
const ADDRESS: Record<string, string> = {
  'node-a': '127.0.0.1',
  'node-b': '127.0.0.2',
  'node-c': '127.0.0.3',
};

const secret = (data: Record<string, Buffer>, namespace = NS): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: MEMBERLIST.secret, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])),
  }) as KubeObject;

/** A speaker Pod on `node`, as the DaemonSet makes it (its labels, scheduled, running). */
const speakerPod = (node: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `speaker-${node}`, namespace: NS, labels: selectorLabels('speaker') },
    spec: { nodeName: node, hostNetwork: true },
    status: { phase: 'Running' },
  }) as KubeObject;

/** Nodes `names`, each running a speaker Pod unless listed in `withoutSpeaker`. */
function cluster(names: readonly string[], key?: Buffer, withoutSpeaker: readonly string[] = []): FakeKube {
  const kube = new FakeKube();
  for (const name of names) if (!withoutSpeaker.includes(name)) kube.put(speakerPod(name));
  for (const name of names)
    kube.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: {
        addresses: [
          { type: 'InternalIP', address: ADDRESS[name]! },
          { type: 'Hostname', address: name },
        ],
      },
    } as KubeObject);
  if (key) kube.put(secret({ [MEMBERLIST.key]: key }));
  return kube;
}

interface Member {
  name: string;
  port: GossipMembershipPort;
  registry: Registry;
  logs: { msg: string; [k: string]: unknown }[];
  events: { reason: string; message: string }[];
  changes: number;
}

const started: Member[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) await m.port.stop();
});

async function member(
  kube: FakeKube,
  name: string,
  udpPort: number,
  blockedAfterMs = 5000,
  /** The API server the tie-break Lease lives on; unset: the lowest-name rule. */
  tieBreak?: FakeKube,
): Promise<Member> {
  const logs: Member['logs'] = [];
  const events: Member['events'] = [];
  const recorder: EventRecorder = {
    emit: async (_o, _t, reason, message) => void events.push({ reason, message }),
  };
  const logger = createLogger({
    component: 'speaker',
    level: 'info',
    write: (l) => void logs.push(JSON.parse(l)),
  });
  const registry = createRegistry();
  const nodes = kube.watchCache<KubeObject>({ apiVersion: 'v1', kind: 'Node', plural: 'nodes' });
  await nodes.waitForSync(new AbortController().signal);
  const port = new GossipMembershipPort({
    nodeName: name,
    namespace: NS,
    secret: MEMBERLIST.secret,
    port: udpPort,
    bindAddress: ADDRESS[name]!,
    kube,
    speakerLabels: selectorLabels('speaker'),
    nodes: nodes as never,
    ...(tieBreak
      ? {
          tieBreak: {
            kube: tieBreak,
            lease: LEASES.speakerTieBreak,
            timing: { leaseDurationMs: 1000, safetyMarginMs: 300, renewIntervalMs: 150, retryIntervalMs: 50 },
          },
        }
      : {}),
    logger,
    registry,
    events: recorder,
    blockedAfterMs,
    checkIntervalMs: 100,
  });
  const m: Member = { name, port, registry, logs, events, changes: 0 };
  port.onChange(() => m.changes++);
  await port.start(new AbortController().signal);
  started.push(m);
  return m;
}

async function poll(what: string, check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (
    m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ??
    Number.NaN
  );
}

const freshPort = () => 20_000 + Math.floor(Math.random() * 20_000);
const alive = (m: Member) => [...m.port.snapshot().alive].sort();

describe('keysFromSecret', () => {
  it('names the Secret and the key for every problem; accepts a second key for rotation', () => {
    expect(keysFromSecret(undefined, WHERE)).toEqual({
      ok: false,
      problem: `Secret ${WHERE} not found: no gossip key, so no membership`,
    });
    expect(keysFromSecret({ data: {} }, WHERE)).toEqual({
      ok: false,
      problem: `Secret ${WHERE} has no key "${MEMBERLIST.key}"`,
    });
    const short = keysFromSecret({ data: { [MEMBERLIST.key]: Buffer.alloc(8).toString('base64') } }, WHERE);
    expect(short).toEqual({
      ok: false,
      problem: `Secret ${WHERE}: membership key primary has 8 bytes, at least 16 are required`,
    });
    const both = keysFromSecret(
      { data: { [MEMBERLIST.key]: K1.toString('base64'), [MEMBERLIST.secondaryKey]: K2.toString('base64') } },
      WHERE,
    );
    expect(both).toEqual({ ok: true, keys: { primary: K1, secondary: K2 } });
  });

  it('a KeyRing swaps keys in place and says whether they changed', () => {
    const ring = new KeyRing({ primary: K1 });
    expect(ring.set({ primary: K1 })).toBe(false);
    expect(ring.set({ primary: K2, secondary: K1 })).toBe(true);
    expect([ring.primary, ring.secondary]).toEqual([K2, K1]);
  });
});

describe('nodeAddress and verdictOf', () => {
  const node = {
    metadata: { name: 'n' },
    status: {
      addresses: [
        { type: 'Hostname', address: 'n' },
        { type: 'ExternalIP', address: '192.0.2.1' },
        { type: 'InternalIP', address: '2001:db8::1' },
        { type: 'InternalIP', address: '198.51.100.11' },
        { type: 'InternalIP', address: '203.0.113.11' },
      ],
    },
  };
  it('the first InternalIP of the family, else ExternalIP', () => {
    expect(nodeAddress(node, 4)).toBe('198.51.100.11');
    expect(nodeAddress(node, 6)).toBe('2001:db8::1');
    expect(nodeAddress({ status: { addresses: [{ type: 'ExternalIP', address: '192.0.2.1' }] } }, 4)).toBe(
      '192.0.2.1',
    );
    expect(nodeAddress(undefined, 4)).toBeUndefined();
  });
  it('joining holds; other fences carry the reason', () => {
    expect(verdictOf({ ok: true, basis: 'majority' })).toEqual({
      state: 'alive',
      reason: 'reaches a majority (majority)',
    });
    expect(verdictOf({ ok: false, reason: 'joining', detail: 'x' }).state).toBe('holding');
    expect(verdictOf({ ok: false, reason: 'fenced-minority', detail: 'reaches 1 of 3' })).toEqual({
      state: 'fenced',
      reason: 'fenced-minority: reaches 1 of 3',
    });
  });
});

describe('GossipMembershipPort on loopback', () => {
  it('three speakers join, all may announce; a member on the wrong key is rejected and declared dead', async () => {
    const names = ['node-a', 'node-b', 'node-c'];
    const kubes = names.map(() => cluster(names, K1));
    const udp = freshPort();
    const ms = await Promise.all(names.map((n, i) => member(kubes[i]!, n, udp)));
    await poll('all three alive', () => ms.every((m) => m.port.snapshot().verdict.state === 'alive'));
    expect(alive(ms[0]!)).toEqual(['node-b', 'node-c']);
    expect(ms.every((m) => m.port.readiness().ready)).toBe(true);
    expect(await metric(ms[0]!.registry, 'metallb_ts_membership_members', { status: 'alive' })).toBe(3);

    // node-c's Secret now holds another key only: its packets fail the others' MAC check.
    kubes[2]!.put(secret({ [MEMBERLIST.key]: K2 }));
    await poll(
      'node-c dead for node-a and node-b',
      () => alive(ms[0]!).join() === 'node-b' && alive(ms[1]!).join() === 'node-a',
    );
    expect(ms[0]!.port.snapshot().verdict.state).toBe('alive');
    expect(
      await metric(ms[0]!.registry, 'metallb_ts_membership_rejected_total', { reason: 'bad-mac' }),
    ).toBeGreaterThan(0);
    const death = ms[0]!.logs.find((l) => l.msg === 'member declared dead' && l.member === 'node-c');
    expect(death).toMatchObject({ member: 'node-c' });
    expect(typeof death?.by).toBe('string');
    expect(
      await metric(ms[0]!.registry, 'metallb_ts_membership_failovers_total', { member: 'node-c' }),
    ).toBeGreaterThanOrEqual(1);
    // The cut-off member fences itself (it reaches nobody) and so never announces in conflict.
    await poll('node-c fenced', () => ms[2]!.port.snapshot().verdict.state !== 'alive');
  }, 20_000);

  it('key rotation loses nothing: secondary first, then primary, then the old key dropped', async () => {
    const names = ['node-a', 'node-b'];
    const kubes = names.map(() => cluster(names, K1));
    const udp = freshPort();
    const ms = await Promise.all(names.map((n, i) => member(kubes[i]!, n, udp)));
    await poll('both alive', () => ms.every((m) => m.port.snapshot().verdict.state === 'alive'));
    const steps: Record<string, Buffer>[] = [
      { [MEMBERLIST.key]: K1, [MEMBERLIST.secondaryKey]: K2 },
      { [MEMBERLIST.key]: K2, [MEMBERLIST.secondaryKey]: K1 },
      { [MEMBERLIST.key]: K2 },
    ];
    for (const data of steps) {
      // One node at a time, as the kubelet refreshes mounted Secrets node by node.
      for (const k of kubes) {
        k.put(secret(data));
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const m of ms) {
      expect(m.port.snapshot().verdict.state).toBe('alive');
      expect(await metric(m.registry, 'metallb_ts_membership_rejected_total', { reason: 'bad-mac' })).toBe(0);
      expect(m.logs.filter((l) => l.msg === 'gossip keys changed')).toHaveLength(3);
      expect(m.logs.some((l) => l.msg === 'member declared dead')).toBe(false);
    }
  }, 20_000);

  it('a missing key is a readiness failure and an event, never plaintext; the Secret appearing starts it', async () => {
    const kube = cluster(['node-a']);
    const m = await member(kube, 'node-a', freshPort());
    expect(m.port.readiness()).toEqual({
      ready: false,
      reason: `Secret ${WHERE} not found: no gossip key, so no membership`,
    });
    expect(m.port.snapshot().verdict).toEqual({
      state: 'fenced',
      reason: `Secret ${WHERE} not found: no gossip key, so no membership`,
    });
    expect(m.events).toEqual([
      {
        reason: 'MemberlistKeyMissing',
        message: `Secret ${WHERE} not found: no gossip key, so no membership`,
      },
    ]);

    kube.put(secret({ [MEMBERLIST.key]: K1 }));
    await poll('ready once the Secret exists', () => m.port.readiness().ready);
    // Alone in the cluster: a majority of one.
    await poll('alone and alive', () => m.port.snapshot().verdict.state === 'alive');
  });

  it('a port that cannot be bound, and a port nobody answers on, are reported: readiness, event, metric', async () => {
    const names = ['node-a', 'node-b'];
    const udp = freshPort();
    const a = await member(cluster(names, K1), 'node-a', udp, 400);
    // node-b's peer never runs: after blockedAfterMs without an answer node-a reports it.
    await poll('blocked reported', () => !a.port.readiness().ready);
    expect(a.port.readiness().reason).toContain(`UDP port ${udp}`);
    expect(a.events.map((e) => e.reason)).toContain('MemberlistPortBlocked');
    expect(await metric(a.registry, 'metallb_ts_membership_port_blocked')).toBe(1);

    // A second member on node-a's own address and port cannot bind.
    const again = await member(cluster(names, K1), 'node-a', udp);
    expect(again.port.readiness().ready).toBe(false);
    expect(again.port.readiness().reason).toMatch(new RegExp(`127\\.0\\.0\\.1:${udp} cannot be bound`));
    expect(again.port.snapshot().verdict.state).toBe('fenced');
    expect(await metric(again.registry, 'metallb_ts_membership_port_blocked')).toBe(1);
  });

  it('a planned stop is a graceful leave: the others drop the member at once', async () => {
    const names = ['node-a', 'node-b', 'node-c'];
    const udp = freshPort();
    const ms = await Promise.all(names.map((n) => member(cluster(names, K1), n, udp)));
    await poll('all three alive', () => ms.every((m) => m.port.snapshot().verdict.state === 'alive'));
    const c = started.splice(started.indexOf(ms[2]!), 1)[0]!;
    const t0 = Date.now();
    await c.port.stop();
    await poll('node-c gone', () => alive(ms[0]!).join() === 'node-b');
    expect(Date.now() - t0).toBeLessThan(500);
    expect(ms[0]!.port.snapshot().verdict.state).toBe('alive');
  });
});

describe('peers are the nodes running a speaker Pod', () => {
  it('a Node without a speaker Pod is not a member: one speaker on three Nodes is a majority of one', async () => {
    const names = ['node-a', 'node-b', 'node-c'];
    const kube = cluster(names, K1, ['node-b', 'node-c']);
    const a = await member(kube, 'node-a', freshPort());
    // Counting every Node, it would reach 1 of 3 and stay fenced forever.
    await poll('alone and alive', () => a.port.snapshot().verdict.state === 'alive');
    expect(await metric(a.registry, 'metallb_ts_membership_members', { status: 'dead' })).toBe(0);
    expect(await metric(a.registry, 'metallb_ts_membership_members', { status: 'alive' })).toBe(1);
  });

  it("a speaker Pod's deletion makes its node no member", async () => {
    const names = ['node-a', 'node-b', 'node-c'];
    const kube = cluster(names, K1);
    const a = await member(kube, 'node-a', freshPort());
    // node-b and node-c have Pods but no speaker runs there: they count, so node-a, reaching 1 of
    // 3, is never acknowledged by a majority.
    await new Promise((r) => setTimeout(r, 500));
    expect(a.port.snapshot().verdict.state).toBe('holding');
    kube.remove('Pod', NS, 'speaker-node-b');
    kube.remove('Pod', NS, 'speaker-node-c');
    await poll('alive once both are forgotten', () => a.port.snapshot().verdict.state === 'alive');
    expect(a.logs.filter((l) => l.msg.startsWith('member forgotten')).map((l) => l.member)).toEqual([
      'node-b',
      'node-c',
    ]);
  });
});

describe('two nodes with the API-server tie-break', () => {
  it('no Lease request while they gossip; cut apart, exactly one side announces; healed, the Lease is handed back', async () => {
    const names = ['node-a', 'node-b'];
    const kubes = names.map(() => cluster(names, K1));
    const api = new FakeKube();
    const udp = freshPort();
    const ms = await Promise.all(names.map((n, i) => member(kubes[i]!, n, udp, 5000, api)));
    await poll('both alive', () => ms.every((m) => m.port.snapshot().verdict.state === 'alive'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(api.calls).toEqual([]);

    // node-b's key changes: neither accepts the other's packets, each reaches exactly half.
    kubes[1]!.put(secret({ [MEMBERLIST.key]: K2 }));
    const states = () => ms.map((m) => m.port.snapshot().verdict.state);
    const leaseHolder = () =>
      api.find<KubeObject & { spec?: { holderIdentity?: string } }>('Lease', NS, LEASES.speakerTieBreak)?.spec
        ?.holderIdentity;
    // One side may fence before the other has noticed the cut (still alive by majority): wait for
    // the state the tie-break settles in, the Lease held and its holder the one alive side.
    await poll('one side alive through the tie-break, the other fenced', () => {
      const now = states();
      const alive = ms.filter((m) => m.port.snapshot().verdict.state === 'alive');
      return (
        alive.length === 1 &&
        now.includes('fenced') &&
        leaseHolder() === alive[0]!.name &&
        alive[0]!.port.snapshot().verdict.reason === 'reaches a majority (tie-breaker)'
      );
    });
    const holder = leaseHolder();
    const winner = ms.find((m) => m.name === holder)!;
    const loser = ms.find((m) => m.name !== holder)!;
    expect(winner.port.snapshot().verdict.reason).toBe('reaches a majority (tie-breaker)');
    // The loser stays fenced while the holder renews, and never both announce.
    let both = 0;
    for (let i = 0; i < 50; i++) {
      if (states().every((x) => x === 'alive')) both++;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(both).toBe(0);
    expect(loser.port.snapshot().verdict.reason).toMatch(/^fenced-tie: .*tie-breaker answered denied$/);
    await poll('the holder declared the other dead', () => alive(winner).length === 0);

    kubes[1]!.put(secret({ [MEMBERLIST.key]: K1 }));
    await poll('both alive again', () => states().every((x) => x === 'alive'));
    await poll('the Lease handed back', () => {
      const l = api.find<KubeObject & { spec?: { holderIdentity?: string } }>(
        'Lease',
        NS,
        LEASES.speakerTieBreak,
      );
      return l?.spec?.holderIdentity === '';
    });
    expect(winner.logs.some((l) => l.msg.startsWith('released the tie-break Lease'))).toBe(true);
  }, 20_000);
});

// Two state machines straight, without the port: the rule the two-node case follows.
describe('two nodes (the membership package rule)', () => {
  it('after the other is declared dead, only the lower-named survivor announces', () => {
    const mk = (name: string) =>
      new Membership({
        name,
        keys: { primary: K1 },
        peers: ['node-a', 'node-b'],
        incarnation: 1,
        random: () => 0.5,
        startPhase: 'member',
      });
    expect(verdictOf(mk('node-a').mayAnnounce(0)).state).toBe('alive');
    expect(verdictOf(mk('node-b').mayAnnounce(0)).state).toBe('fenced');
  });
});
