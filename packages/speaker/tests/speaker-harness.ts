import { afterEach } from '@jest/globals';
import {
  createK8sClientMetrics,
  createLogger,
  createRegistry,
  type EventRecorder,
  type KubeObject,
  type Registry,
} from '@metallb-ts/k8s-runtime';
import { eventually as eventuallyPasses, FakeKube } from '@metallb-ts/k8s-runtime/testing';
import {
  BROADCAST_MAC,
  bytesToIpv4,
  decodeFrame,
  encodeArpFrame,
  ipv4ToBytes,
  parseMac,
} from '@metallb-ts/l2-proto';
import { selectorLabels } from '@metallb-ts/manifests';
import type { LinkInfo, LinkStamp } from '../src/interfaces.js';
import { LeaseMembershipPort } from '../src/lease-membership.js';
import type { WireLink } from '../src/pcap-link.js';
import { Speaker, type LinkAccess, type SpeakerDeps, type SpeakerOptions } from '../src/speaker.js';

/*
 * The Speaker class wired to an in-memory API server and fake links: the same objects and frames
 * the lab uses, without namespaces or libpcap. Speakers share one FakeKube, so election,
 * hand-over and fencing run through the real caches, membership and work queue.
 */

export const NS = 'metallb-system';
export const VIP = '192.0.2.10';
export const NODES = ['node-a', 'node-b'] as const;
export const MACS: Record<string, string> = {
  'node-a': '02:00:00:00:0a:01',
  'node-b': '02:00:00:00:0b:01',
  'node-c': '02:00:00:00:0c:01',
};
const CLIENT_MAC = '02:00:00:00:99:99';

const bytes = (r: { ok: true; value: Buffer } | { ok: false; error: { message: string } }): Buffer => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

/** One fake interface: records what the speaker injects and lets the test deliver frames. */
export class FakeLink {
  readonly injected: Buffer[] = [];
  deliver: ((frame: Buffer) => void) | undefined;
  closed = false;
  /** The next inject throws, as libpcap's does when the send fails. */
  failNextInject = false;
  /** What sysfs would say about the link now: `flap()` changes it as a down/up would. */
  stamp: LinkStamp = { ifindex: 2, carrierChanges: 1, up: true };
  /** How many captures were opened on this link. */
  opens = 0;
  constructor(readonly info: LinkInfo) {}

  /**
   * The link went down and came back: the kernel counts two carrier changes, and the open capture
   * goes deaf without an error, as libpcap's does.
   */
  flap(): void {
    this.stamp = { ...this.stamp, carrierChanges: this.stamp.carrierChanges + 2 };
    this.deliver = undefined;
  }

  readonly access: LinkAccess = {
    readLinks: () => [this.info],
    readStamp: () => this.stamp,
    openLink: (name, onFrame, onError): WireLink => {
      this.opens++;
      // Delivered as pcap-link does: a throwing handler is reported as a capture error.
      this.deliver = (frame) => {
        try {
          onFrame(frame);
        } catch (error) {
          onError(error as Error);
        }
      };
      this.closed = false;
      return {
        name,
        inject: (frame) => {
          if (this.failNextInject) {
            this.failNextInject = false;
            throw new Error('Pcap inject failed.');
          }
          this.injected.push(Buffer.from(frame));
        },
        close: () => {
          this.closed = true;
          this.deliver = undefined;
        },
        stats: () => ({ received: 0, dropped: 0 }),
      };
    },
  };

  /** ARP replies for `ip` injected since `from`, as sender MACs. */
  arpFrom(ip: string, operation: 'reply' | 'request', from = 0): string[] {
    const out: string[] = [];
    for (const f of this.injected.slice(from)) {
      const d = decodeFrame(f);
      if (!d.ok || d.value.kind !== 'arp') continue;
      const a = d.value.arp;
      if (a.operation === operation && bytesToIpv4(a.senderIp) === ip)
        out.push([...a.senderMac].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    }
    return out;
  }

  /** Asks "who has `ip`?" on this link; returns the index where replies to it start. */
  ask(ip: string): number {
    const from = this.injected.length;
    this.deliver?.(
      encodeArpFrame({
        destination: BROADCAST_MAC,
        source: bytes(parseMac(CLIENT_MAC)),
        arp: {
          operation: 'request',
          senderMac: bytes(parseMac(CLIENT_MAC)),
          senderIp: bytes(ipv4ToBytes('192.0.2.99')),
          targetMac: Buffer.alloc(6),
          targetIp: bytes(ipv4ToBytes(ip)),
        },
      }),
    );
    return from;
  }
}

export interface Running {
  node: string;
  /** What the speaker logged, one parsed JSON line each. */
  logs: { msg: string; level: string }[];
  speaker: Speaker;
  link: FakeLink;
  registry: Registry;
  abort: AbortController;
  stopped: boolean;
}

export const events: { reason: string; name: string; message: string }[] = [];
const recorder: EventRecorder = {
  emit: async (obj, _type, reason, message) => {
    events.push({ reason, name: obj.metadata?.name ?? '', message });
  },
};

let running: Running[] = [];

/** Marks a speaker stopped by the test itself. */
export function stopped(r: Running): void {
  r.stopped = true;
}

afterEach(async () => {
  for (const r of running) {
    r.abort.abort();
    if (!r.stopped) await r.speaker.stop();
  }
  running = [];
  events.length = 0;
});

export function cluster(nodes: readonly string[] = NODES, addresses: Record<string, string> = {}): FakeKube {
  const kube = new FakeKube();
  const put = (o: object) => kube.put(o as KubeObject);
  for (const name of nodes)
    // Its speaker Pod, as the DaemonSet makes it: the gossip membership's peers.
    put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `speaker-${name}`, namespace: NS, labels: selectorLabels('speaker') },
      spec: { nodeName: name, hostNetwork: true },
      status: { phase: 'Running' },
    });
  for (const name of nodes)
    put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      ...(addresses[name]
        ? { status: { addresses: [{ type: 'InternalIP', address: addresses[name] }] } }
        : {}),
    });
  put({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'pool', namespace: NS },
    spec: { addresses: ['192.0.2.0/28'] },
  });
  put({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'l2', namespace: NS },
    spec: { ipAddressPools: ['pool'] },
  });
  put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'demo',
      annotations: { 'metallb.io/ip-allocated-from-pool': 'pool' },
    },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: VIP }] } },
  });
  put({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['192.0.2.200'], nodeName: 'node-a', conditions: { ready: true } }],
  });
  return kube;
}

/** A membership for one speaker; the default is Leases with short timings. */
export type MembershipFactory = (
  kube: FakeKube,
  node: string,
  ctx: { logger: ReturnType<typeof createLogger>; registry: Registry; events: EventRecorder },
) => SpeakerDeps['membership'];

export const leaseMembership: MembershipFactory =
  (kube, node, { logger }) =>
  ({ nodes }) =>
    new LeaseMembershipPort(kube, {
      nodeName: node,
      namespace: NS,
      // Short enough for a quick fencing test, long enough that a busy test machine never fences by accident.
      renewMs: 100,
      leaseDurationMs: 1500,
      nodeNames: () => nodes.list().map((n) => n.metadata?.name ?? ''),
      logger,
    });

export async function startSpeaker(
  kube: FakeKube,
  node: string,
  membership: MembershipFactory = leaseMembership,
  /** The speaker's Pod (`SpeakerDeps.owner`); unset as for a process. */
  owner?: SpeakerDeps['owner'],
  /** Options beyond the harness's own (node, namespace, links, fast announcer). */
  extra: Pick<SpeakerOptions, 'statusGraceMs'> = {},
): Promise<Running> {
  const link = new FakeLink({
    name: 'eth0',
    mac: MACS[node]!,
    up: true,
    noArp: false,
    enslaved: false,
    loopback: false,
  });
  const registry = createRegistry();
  const logs: Running['logs'] = [];
  const logger = createLogger({
    component: 'speaker',
    level: 'warn',
    write: (line) => void logs.push(JSON.parse(line) as Running['logs'][number]),
  });
  const speaker = new Speaker(
    {
      nodeName: node,
      namespace: NS,
      exclude: [],
      announcer: { burstMs: [0], refreshMs: 0 },
      ...extra,
    },
    {
      kube: kube,
      events: recorder,
      logger,
      registry,
      clientMetrics: createK8sClientMetrics(registry),
      links: link.access,
      membership: membership(kube, node, { logger, registry, events: recorder }),
      ...(owner ? { owner } : {}),
    },
  );
  const abort = new AbortController();
  await speaker.start(abort.signal);
  const r = { node, logs, speaker, link, registry, abort, stopped: false };
  running.push(r);
  return r;
}

/** Generous: the fencing step waits for a lease to lapse, on a machine that may be busy. */
export const eventually = (check: () => void | Promise<void>) =>
  eventuallyPasses(check, { timeoutMs: 10_000, intervalMs: 10 });

export async function counter(registry: Registry, name: string, ip: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.ip === ip)?.value ?? 0;
}
