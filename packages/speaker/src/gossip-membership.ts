import { isIP } from 'node:net';
import type {
  CacheFactory,
  EventRecorder,
  KubeObject,
  Logger,
  Node as KubeNode,
  Registry,
  ResourceCache,
} from '@metallb-ts/k8s-runtime';
import { Membership, type MembershipEvent, type Timing } from '@metallb-ts/membership';
import { keysFromSecret, KeyRing, type SecretLike } from './membership-keys.js';
import { MembershipPrometheus } from './membership-metrics.js';
import type { MembershipPort, MembershipSnapshot, MembershipVerdict, Readiness } from './membership-port.js';
import { MembershipUdp } from './membership-udp.js';
import { daemonSetOwner, labelSelector, peerNames, speakerNodes, type SpeakerPod } from './speaker-peers.js';
import type { TieBreakTiming } from './tie-break.js';
import { TieBreakLease, type TieBreakApi } from './tie-break-lease.js';

export interface GossipMembershipOptions {
  nodeName: string;
  namespace: string;
  /** Name of the Secret with the keys (MEMBERLIST_SECRET). */
  secret: string;
  port: number;
  bindAddress: string;
  /** Watches the key Secret and the speaker Pods. */
  kube: CacheFactory;
  /**
   * The speaker DaemonSet's selector labels: the peers are the nodes running a Pod with them (in
   * `namespace`), each reached at its Node's first InternalIP of the bind address's family.
   */
  speakerLabels: Readonly<Record<string, string>>;
  /** Node addresses (and the Node events are recorded on). */
  nodes: Pick<ResourceCache<KubeNode>, 'list' | 'get' | 'onChange'>;
  /**
   * The API-server tie-break (a Lease, asked only while gossip reports an exact half); unset: the
   * half holding the lowest-named member wins (see @metallb-ts/membership quorum.ts).
   */
  tieBreak?: {
    readonly kube: TieBreakApi;
    readonly lease: string;
    readonly timing?: Partial<TieBreakTiming>;
  };
  logger: Logger;
  registry: Registry;
  events: EventRecorder;
  timing?: Partial<Timing>;
  /** No answer from anyone for this long while the API shows peers: the port is reported blocked. */
  blockedAfterMs?: number;
  /** How often the blocked check runs; also the retry delay after a bind failure. */
  checkIntervalMs?: number;
  random?: () => number;
}

type Secret = KubeObject & SecretLike;

/** The peer address of a Node: its first InternalIP (else ExternalIP) of the wanted family. */
export function nodeAddress(node: KubeNode | undefined, family: 4 | 6): string | undefined {
  const addresses = node?.status?.addresses ?? [];
  for (const type of ['InternalIP', 'ExternalIP'])
    for (const a of addresses) if (a.type === type && isIP(a.address) === family) return a.address;
  return undefined;
}

/** A membership verdict as the election reads it. */
export function verdictOf(v: ReturnType<Membership['mayAnnounce']>): MembershipVerdict {
  if (v.ok) return { state: 'alive', reason: `reaches a majority (${v.basis})` };
  return { state: v.reason === 'joining' ? 'holding' : 'fenced', reason: `${v.reason}: ${v.detail}` };
}

/**
 * The default membership: the gossip state machine (`@metallb-ts/membership`) on a UDP socket.
 * Peers are the nodes running a speaker Pod (addresses from the Node cache); the key comes from a
 * Secret (watched, so a rotation needs no restart). Steady state makes no API calls at all: with
 * the API server down, speakers keep announcing and failing over among themselves. Only while
 * gossip reports an exact half (two nodes, one gone) is the tie-break Lease asked; a side that
 * cannot reach the API server then stays fenced.
 */
export class GossipMembershipPort implements MembershipPort {
  private readonly secrets: ResourceCache<Secret>;
  private readonly pods: ResourceCache<SpeakerPod>;
  private readonly tie: TieBreakLease | undefined;
  private readonly listeners: (() => void)[] = [];
  private readonly prometheus: MembershipPrometheus;
  private readonly family: 4 | 6;
  private membership: Membership | undefined;
  private udp: MembershipUdp | undefined;
  private ring: KeyRing | undefined;
  private keyProblem: string | undefined;
  private bindProblem: string | undefined;
  private blocked = false;
  private answeredCount = 0;
  private answeredAt = performance.now();
  private peers = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private opening: Promise<void> | undefined;

  constructor(private readonly o: GossipMembershipOptions) {
    this.family = isIP(o.bindAddress) === 6 ? 6 : 4;
    this.secrets = o.kube.watchCache<Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      plural: 'secrets',
      namespace: o.namespace,
      // RBAC grants list/watch on this one Secret only; the name selector is what lets it apply.
      fieldSelector: `metadata.name=${o.secret}`,
      logger: o.logger,
    });
    this.pods = o.kube.watchCache<SpeakerPod>({
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      namespace: o.namespace,
      labelSelector: labelSelector(o.speakerLabels),
      logger: o.logger,
    });
    this.tie = o.tieBreak
      ? new TieBreakLease(o.tieBreak.kube, {
          namespace: o.namespace,
          name: o.tieBreak.lease,
          logger: o.logger,
          onChange: () => this.notify(),
          owner: () => daemonSetOwner(this.pods.list(), o.speakerLabels),
          ...(o.tieBreak.timing ? { timing: o.tieBreak.timing } : {}),
        })
      : undefined;
    this.prometheus = new MembershipPrometheus(o.registry, {
      metrics: () => this.membership?.metrics(),
      blocked: () => this.blocked || this.bindProblem !== undefined,
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    await Promise.all([this.secrets.waitForSync(signal), this.pods.waitForSync(signal)]);
    this.secrets.onChange(() => void this.onSecret());
    this.o.nodes.onChange(() => this.syncPeers());
    this.pods.onChange(() => this.syncPeers());
    await this.onSecret();
    this.timer = setInterval(() => this.check(), this.o.checkIntervalMs ?? 1000);
    this.timer.unref();
  }

  snapshot(): MembershipSnapshot {
    const m = this.udp ? this.membership : undefined;
    if (!m)
      return {
        alive: new Set(),
        verdict: { state: 'fenced', reason: this.keyProblem ?? this.bindProblem ?? 'gossip not started yet' },
      };
    const alive = new Set(m.aliveMembers());
    alive.delete(this.o.nodeName);
    return { alive, verdict: verdictOf(m.mayAnnounce(performance.now())) };
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  readiness(): Readiness {
    const reason =
      this.keyProblem ??
      this.bindProblem ??
      (this.blocked
        ? `no gossip answers on UDP port ${this.o.port} although the API server shows peers`
        : undefined);
    return reason ? { ready: false, reason } : { ready: true };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.opening;
    // The graceful leave: peers take over at once instead of after a detection.
    await this.udp?.close({ leave: true });
    this.udp = undefined;
    await this.tie?.stop();
    await Promise.all([this.secrets.stop(), this.pods.stop()]);
  }

  /** Peer names (nodes running a speaker Pod, with an address), without ourselves. */
  private peerNames(): string[] {
    return peerNames(this.o.nodeName, speakerNodes(this.pods.list(), this.o.speakerLabels), this.addressOf);
  }

  private addressOf = (member: string): string | undefined =>
    nodeAddress(this.o.nodes.get(member), this.family);

  private syncPeers(): void {
    const m = this.membership;
    if (!m) return;
    const now = new Set(this.peerNames());
    for (const p of now) if (!this.peers.has(p)) m.addPeer(p);
    for (const p of this.peers)
      if (!now.has(p)) {
        m.forgetPeer(p);
        this.o.logger.info('member forgotten: its speaker Pod (or its Node) is gone', { member: p });
      }
    this.peers = now;
    this.askTieBreak();
    this.notify();
  }

  /** The API server is asked only while gossip reports an exact half: 0 requests otherwise. */
  private askTieBreak(): void {
    const m = this.membership;
    if (m && this.tie) this.tie.want(this.udp ? m.tieSide(performance.now())?.join(',') : undefined);
  }

  private async onSecret(): Promise<void> {
    const where = `${this.o.namespace}/${this.o.secret}`;
    const r = keysFromSecret(this.secrets.get(where), where);
    if (!r.ok) {
      if (this.keyProblem !== r.problem) {
        this.keyProblem = r.problem;
        // Never plaintext: without a key there is no membership, so this speaker stays fenced
        // (or, if it had a key, keeps the last one and reports not ready until the Secret is back).
        this.o.logger.error('gossip key unusable', {
          problem: r.problem,
          keepsLastKey: this.ring !== undefined,
        });
        this.event('Warning', 'MemberlistKeyMissing', r.problem);
        this.notify();
      }
      return;
    }
    if (this.keyProblem !== undefined) this.o.logger.info('gossip key usable again', { secret: where });
    this.keyProblem = undefined;
    if (this.ring) {
      if (this.ring.set(r.keys))
        this.o.logger.info('gossip keys changed', {
          secret: where,
          secondary: r.keys.secondary !== undefined,
        });
      this.notify();
      return;
    }
    this.ring = new KeyRing(r.keys);
    this.opening = this.open();
    await this.opening;
  }

  private async open(): Promise<void> {
    if (this.stopped || !this.ring) return;
    this.peers = new Set(this.peerNames());
    this.membership ??= new Membership({
      name: this.o.nodeName,
      keys: this.ring,
      peers: [...this.peers],
      // Wall-clock seconds: a restarted speaker starts above its previous life's incarnation.
      incarnation: Math.floor(Date.now() / 1000),
      random: this.o.random ?? Math.random,
      ...(this.o.timing ? { timing: this.o.timing } : {}),
      ...(this.tie ? { tieBreaker: this.tie.answer } : {}),
    });
    try {
      this.udp = await MembershipUdp.open({
        membership: this.membership,
        port: this.o.port,
        host: this.o.bindAddress,
        addressOf: this.addressOf,
        onEvents: (events) => this.onEvents(events),
      });
      if (this.bindProblem) this.o.logger.info('gossip port bound', { port: this.o.port });
      this.bindProblem = undefined;
      this.answeredAt = performance.now();
      this.o.logger.info('gossip membership started', {
        port: this.udp.port,
        bind: this.o.bindAddress,
        peers: [...this.peers].sort(),
      });
    } catch (error) {
      const problem = (error as Error).message;
      if (this.bindProblem !== problem) {
        this.o.logger.error('gossip port unusable; retrying', { problem });
        this.event('Warning', 'MemberlistPortBlocked', problem);
      }
      this.bindProblem = problem;
      setTimeout(() => void this.open(), this.o.checkIntervalMs ?? 1000).unref();
    }
    this.notify();
  }

  private onEvents(events: readonly MembershipEvent[]): void {
    const log = this.o.logger;
    for (const e of events) {
      switch (e.kind) {
        case 'member-dead':
          // Who declared whom dead and why: `by` is the declarer, or who passed the rumour on.
          log.warn('member declared dead', {
            member: e.member,
            by: e.by,
            reason: e.reason ?? 'rumour',
            incarnation: e.incarnation,
          });
          this.prometheus.failover(e.member, e.by);
          break;
        case 'member-suspected':
          log.info('member suspected', { member: e.member, by: e.by, incarnation: e.incarnation });
          break;
        case 'self-declared-dead':
          log.warn('declared dead by the others: dropping every announcement and rejoining', {
            by: e.by,
            incarnation: e.incarnation,
          });
          break;
        case 'verdict-changed':
          log.info('membership verdict changed', { verdict: e.verdict });
          break;
        default:
          log.info(`membership: ${e.kind}`, { ...e });
      }
    }
    this.askTieBreak();
    this.notify();
  }

  /** The blocked-port check: nobody answered for `blockedAfterMs` although the API shows peers. */
  private check(): void {
    const m = this.membership;
    if (!m || !this.udp) return;
    this.askTieBreak();
    const count = m.metrics().probeRtt.count;
    const now = performance.now();
    if (count !== this.answeredCount) {
      this.answeredCount = count;
      this.answeredAt = now;
      if (this.blocked) {
        this.blocked = false;
        this.o.logger.info('gossip answers again', { port: this.o.port });
        this.notify();
      }
      return;
    }
    const silentMs = now - this.answeredAt;
    if (this.blocked || this.peers.size === 0 || silentMs < (this.o.blockedAfterMs ?? 5000)) return;
    this.blocked = true;
    const message = `no member answered on UDP port ${this.o.port} for ${Math.round(silentMs)} ms although the API server shows ${this.peers.size} peer(s): is the port blocked?`;
    this.o.logger.error('gossip port blocked', {
      port: this.o.port,
      peers: [...this.peers].sort(),
      silentMs,
    });
    this.event('Warning', 'MemberlistPortBlocked', message);
    this.notify();
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    const node = this.o.nodes.get(this.o.nodeName);
    if (node) void this.o.events.emit(node, type, reason, message);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
