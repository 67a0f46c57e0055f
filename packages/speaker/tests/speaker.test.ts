import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import { electNode } from '../src/election.js';
import {
  cluster,
  counter,
  eventually,
  events,
  MACS,
  NODES,
  startSpeaker,
  stopped,
  VIP,
} from './speaker-harness.js';

const winner = electNode(NODES, VIP)!;
const loser = NODES.find((n) => n !== winner)!;

describe('Speaker wired to an API server and links', () => {
  it('the elected node announces and answers ARP for the VIP; the other stays silent', async () => {
    const kube = cluster();
    const [a, b] = [await startSpeaker(kube, NODES[0]), await startSpeaker(kube, NODES[1])];
    const w = a.node === winner ? a : b;
    const l = a.node === winner ? b : a;

    await eventually(() => expect(w.link.arpFrom(VIP, 'request')).toEqual([MACS[winner]]));
    const from = w.link.ask(VIP);
    expect(w.link.arpFrom(VIP, 'reply', from)).toEqual([MACS[winner]]);
    const lFrom = l.link.ask(VIP);
    expect(l.link.injected.slice(lFrom)).toEqual([]);
    expect(l.link.injected).toEqual([]);

    expect(await counter(w.registry, 'metallb_layer2_requests_received', VIP)).toBe(1);
    expect(await counter(w.registry, 'metallb_layer2_responses_sent', VIP)).toBe(1);
    expect(await counter(w.registry, 'metallb_layer2_gratuitous_sent', VIP)).toBeGreaterThanOrEqual(1);
    expect(await counter(l.registry, 'metallb_layer2_responses_sent', VIP)).toBe(0);

    await eventually(() => {
      const statuses = [...kube.objects.values()].filter((o) => o.kind === 'ServiceL2Status') as {
        status?: { node?: string; serviceName?: string; interfaces?: { name: string }[] };
      }[];
      expect(statuses.map((s) => [s.status?.node, s.status?.serviceName, s.status?.interfaces])).toEqual([
        [winner, 'web', [{ name: 'eth0' }]],
      ]);
    });
    expect(events).toContainEqual(expect.objectContaining({ reason: 'nodeAssigned', name: 'web' }));
  });

  it("the ServiceL2Status it writes is owned by the speaker's Pod", async () => {
    const kube = cluster();
    const pod = { apiVersion: 'v1', kind: 'Pod', name: `speaker-${winner}`, uid: `u-${winner}` };
    await startSpeaker(kube, winner, undefined, pod);
    await eventually(() => {
      const statuses = [...kube.objects.values()].filter((o) => o.kind === 'ServiceL2Status');
      expect(statuses.map((s) => s.metadata?.ownerReferences)).toEqual([[pod]]);
    });
  });

  it('a planned leave hands the VIP over: the other node announces and answers at once', async () => {
    const kube = cluster();
    const w = await startSpeaker(kube, winner);
    const l = await startSpeaker(kube, loser);
    await eventually(() => expect(w.link.arpFrom(VIP, 'request')).toHaveLength(1));

    await w.speaker.stop();
    stopped(w);
    expect(w.link.closed).toBe(true);
    await eventually(() => expect(l.link.arpFrom(VIP, 'request')).toEqual([MACS[loser]]));
    const from = l.link.ask(VIP);
    expect(l.link.arpFrom(VIP, 'reply', from)).toEqual([MACS[loser]]);
  });

  it('the announced series follow the services sharing the VIP across recomputes that change nothing for it', async () => {
    const kube = cluster();
    const w = await startSpeaker(kube, winner);
    const series = async () =>
      ((await w.registry.getSingleMetric('metallb_speaker_announced')?.get())?.values ?? [])
        .filter((v) => v.labels.ip === VIP)
        .map((v) => `${v.labels.service}=${v.value}`)
        .sort();
    await eventually(async () => expect(await series()).toEqual(['demo/web=1']));
    const api = (labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'api',
        namespace: 'demo',
        labels,
        annotations: { 'metallb.io/ip-allocated-from-pool': 'pool' },
      },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: VIP }] } },
    });
    kube.put(api({}) as KubeObject);
    kube.put({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'api-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'api' } },
      endpoints: [{ addresses: ['192.0.2.201'], nodeName: 'node-a', conditions: { ready: true } }],
    } as KubeObject);
    await eventually(async () => expect(await series()).toEqual(['demo/api=1', 'demo/web=1']));
    // A change that leaves the VIP's services as they were keeps both series.
    kube.put(api({ tier: 'front' }) as KubeObject);
    await eventually(() => expect(w.speaker.ready).toBe(true));
    expect(await series()).toEqual(['demo/api=1', 'demo/web=1']);
    kube.remove('Service', 'demo', 'web');
    await eventually(async () => expect(await series()).toEqual(['demo/api=1']));
  });

  it('stops answering when the Service goes away, and ignores frames it cannot parse', async () => {
    const kube = cluster();
    const w = await startSpeaker(kube, winner);
    await startSpeaker(kube, loser);
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toHaveLength(1));

    for (const junk of [Buffer.alloc(0), Buffer.alloc(13), Buffer.from('ff'.repeat(64), 'hex')])
      expect(() => w.link.deliver?.(junk)).not.toThrow();

    kube.remove('Service', 'demo', 'web');
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([]));
  });

  it('after its link flaps the announcing node reopens the capture, re-sends its burst and answers again', async () => {
    const kube = cluster();
    const w = await startSpeaker(kube, winner);
    await startSpeaker(kube, loser);
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toHaveLength(1));
    const burstsBefore = w.link.arpFrom(VIP, 'request').length;

    w.link.flap();
    expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([]);
    // Within a couple of link checks (LINK_CHECK_MS), not the full rescan.
    await eventually(() => expect(w.link.opens).toBe(2));
    await eventually(() => expect(w.link.arpFrom(VIP, 'request').length).toBeGreaterThan(burstsBefore));
    expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([MACS[winner]]);
  });

  it('a reply that cannot be sent is one lost reply: the link stays open and the next one goes out', async () => {
    const kube = cluster();
    const w = await startSpeaker(kube, winner);
    await startSpeaker(kube, loser);
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toHaveLength(1));
    const sent = await counter(w.registry, 'metallb_layer2_responses_sent', VIP);

    w.link.failNextInject = true;
    expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([]);
    expect(await counter(w.registry, 'metallb_layer2_responses_sent', VIP)).toBe(sent);
    expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([MACS[winner]]);
    expect(await counter(w.registry, 'metallb_layer2_responses_sent', VIP)).toBe(sent + 1);
    expect(w.link.closed).toBe(false);
    expect(w.logs.map((l) => l.msg)).toEqual(['sending reply failed']);
  });

  it('fences itself when it cannot renew its lease, and answers again once it can', async () => {
    const kube = cluster();
    const w = await startSpeaker(kube, winner);
    await startSpeaker(kube, loser);
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toHaveLength(1));

    const fenced = async () =>
      (await w.registry.getSingleMetric('metallb_ts_speaker_fenced')!.get()).values.map((v) => v.value);
    expect(await fenced()).toEqual([0]);

    kube.down = true;
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toEqual([]));
    expect(await fenced()).toEqual([1]);
    kube.down = false;
    await eventually(() => expect(w.link.arpFrom(VIP, 'reply', w.link.ask(VIP))).toHaveLength(1));
    expect(await fenced()).toEqual([0]);
    // Three bounded polls of up to 10 s each: the lease must lapse, then the caches relist with backoff.
  }, 35_000);
});
