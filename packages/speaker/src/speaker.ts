import type {
  EventRecorder,
  K8sClientMetrics,
  CacheFactory,
  KubeWriter,
  Logger,
  ResourceCache,
  SyncResult,
  Node as KubeNode,
  OwnerReference,
} from '@metallb-ts/k8s-runtime';
import { WorkQueue, type Registry } from '@metallb-ts/k8s-runtime';
import type { Served, ServiceDecision } from './announcements.js';
import { Announcer, DEFAULT_ANNOUNCER_OPTIONS, type AnnouncerOptions } from './announcer.js';
import { LinkSet, type LinkAccess } from './link-set.js';
import { L2StatusSync, l2StatusWant } from './l2-status-writer.js';
import {
  electionAlive,
  type MembershipPort,
  type MembershipSnapshot,
  type MembershipVerdict,
} from './membership-port.js';
import { SpeakerCaches } from './speaker-caches.js';
import { SpeakerMetrics } from './speaker-metrics.js';
import { decideServed } from './decide.js';

export type { LinkAccess } from './link-set.js';

export interface SpeakerOptions {
  nodeName: string;
  namespace: string;
  exclude: readonly RegExp[];
  announcer?: AnnouncerOptions;
  ignoreExcludeLabel?: boolean;
  /** Serve only Services of this `spec.loadBalancerClass` (unset: only Services without one). */
  loadBalancerClass?: string;
  /** How long a stopped announcement's ServiceL2Status stays (default L2_STATUS_WITHDRAWAL_GRACE_MS). */
  statusGraceMs?: number;
}

/** The caches a membership implementation may read (peers' addresses, the Node list). */
export interface MembershipContext {
  nodes: ResourceCache<KubeNode>;
}

export interface SpeakerDeps {
  /** Caches and ServiceL2Status writes. */
  kube: CacheFactory & Pick<KubeWriter, 'create' | 'patch' | 'delete'>;
  events: EventRecorder;
  logger: Logger;
  registry: Registry;
  clientMetrics: K8sClientMetrics;
  /** Who is alive and whether we may announce: gossip in production, Leases or a fake in tests. */
  membership: (ctx: MembershipContext) => MembershipPort;
  links?: LinkAccess;
  /** The speaker's Pod, owner of the ServiceL2Status objects it writes (unset outside a Pod). */
  owner?: OwnerReference;
}

const RECOMPUTE = 'announcements';
/** ServiceL2Status writes run under their own key, so slow API calls never delay (un)announcing. */
const L2STATUS = 'l2status';

/**
 * One speaker on one node: wiring and the loop. Every change to services, endpoints, nodes, pools
 * or membership triggers the same level-based recompute of what this node must announce; the
 * difference to what it announces now becomes start/stop calls on the announcer, and the links'
 * responders read the result.
 */
export class Speaker {
  private readonly caches: SpeakerCaches;
  private readonly membership: MembershipPort;
  private readonly links: LinkSet;
  private readonly l2Status: L2StatusSync;
  private readonly queue: WorkQueue;
  private readonly announcer: Announcer;
  private readonly metrics: SpeakerMetrics;
  /** ip -> announcement currently served; owned by the recompute, read by the responders. */
  private served = new Map<string, Served>();
  /** Last winner per service, so the election log fires on a change only. */
  private readonly winners = new Map<string, string | undefined>();
  private lastVerdict: MembershipVerdict | undefined;
  private running = false;

  constructor(
    private readonly opts: SpeakerOptions,
    private readonly deps: SpeakerDeps,
  ) {
    const { kube, logger } = deps;
    this.caches = new SpeakerCaches(kube, opts.namespace, logger, deps.clientMetrics);
    this.membership = deps.membership({ nodes: this.caches.nodes });
    this.metrics = new SpeakerMetrics(deps.registry, opts.nodeName);
    this.announcer = new Announcer({
      ...(opts.announcer ?? DEFAULT_ANNOUNCER_OPTIONS),
      onSent: (ip, _link, frames) => this.metrics.gratuitousSent(ip, frames),
      onError: (ip, link, error) => logger.warn('sending announcement failed', { ip, link, error }),
    });
    this.links = new LinkSet({
      exclude: opts.exclude,
      ...(deps.links ? { access: deps.links } : {}),
      logger,
      metrics: this.metrics,
      announcedOn: (ip, on) => this.served.get(ip)?.links.includes(on) ?? false,
    });
    this.l2Status = new L2StatusSync(
      kube,
      { namespace: opts.namespace, node: opts.nodeName, ...(deps.owner ? { owner: deps.owner } : {}) },
      this.caches.l2Statuses,
      (svc) => this.caches.services.get(svc) !== undefined,
      opts.statusGraceMs,
    );
    this.queue = new WorkQueue({ logger });
  }

  get ready(): boolean {
    return this.running && this.membership.readiness().ready;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.links.sync(true);
    // Every cache before the membership: peers hand an address over as soon as they see its
    // winner join, so a speaker that joined before it could read its config left its addresses
    // unanswered until it could (for as long as the API server was away, if it started during an
    // outage). Out of the membership, it leaves them to the nodes that serve them now.
    await this.caches.waitForSync(signal);
    await this.membership.start(signal);
    const recompute = () => this.queue.add(RECOMPUTE);
    this.caches.listen({ recompute, statuses: () => this.queue.add(L2STATUS) });
    this.membership.onChange(recompute);
    this.links.startRescans((closed) => {
      // The announcer holds senders bound to the closed wires: drop them before the recompute rebinds.
      for (const [ip, a] of this.served)
        for (const name of closed) if (a.links.includes(name)) this.announcer.stop(ip, name);
      recompute();
    });
    this.running = true;
    recompute();
    // Two workers: a key is never handled twice at once, so announcing and status writes proceed
    // side by side, and a status write stuck on a slow API server never holds back fencing.
    void this.queue.run((key) => (key === L2STATUS ? this.syncL2Statuses() : this.recompute()), {
      concurrency: 2,
    });
  }

  /** Planned leave: stop answering, then leave the membership so a peer takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    // Silence first: draining the queue can wait on API calls, and a peer may already announce.
    this.announcer.stopAll();
    this.served = new Map();
    await this.queue.shutdown();
    await this.membership.stop();
    await this.l2Status
      .clear()
      .catch((error) => this.deps.logger.warn('removing ServiceL2Status objects failed', { error }));
    this.links.close();
    await this.caches.stop();
  }

  /**
   * What this node must serve, from one membership snapshot and the current caches and links.
   * Both queue keys call it: the status is derived from the same inputs, never handed over.
   */
  private decide(snapshot: MembershipSnapshot) {
    const alive = electionAlive(this.opts.nodeName, snapshot);
    const { decisions, served } = decideServed({
      me: this.opts.nodeName,
      services: this.caches.services.list(),
      slices: this.caches.slices.list(),
      nodes: this.caches.nodes.list(),
      config: this.caches.config(),
      alive,
      links: this.links.names(),
      ...(this.opts.loadBalancerClass ? { loadBalancerClass: this.opts.loadBalancerClass } : {}),
      ...(this.opts.ignoreExcludeLabel !== undefined
        ? { ignoreExcludeLabel: this.opts.ignoreExcludeLabel }
        : {}),
    });
    return { alive, decisions, served };
  }

  /** Synchronous on purpose: nothing here waits on I/O, so fencing takes effect at once. */
  private recompute(): SyncResult {
    if (!this.running) return { kind: 'ok' };
    const now = Date.now();
    const snapshot = this.membership.snapshot(now);
    this.logVerdict(snapshot.verdict, snapshot.alive);
    this.metrics.verdict(snapshot.verdict.state);
    if (snapshot.recheckAt !== undefined) this.queue.addAfter(RECOMPUTE, snapshot.recheckAt - now);
    const { decisions, served } = this.decide(snapshot);
    this.apply(served);
    this.served = served;
    this.logWinners(decisions);
    this.queue.add(L2STATUS);
    return { kind: 'ok' };
  }

  /** Starts and stops announcements for the difference between what is served now and `next`. */
  private apply(next: ReadonlyMap<string, Served>): void {
    for (const [ip, was] of this.served) {
      const now = next.get(ip);
      for (const link of was.links) if (!now?.links.includes(link)) this.announcer.stop(ip, link);
      if (!now) {
        this.metrics.announced(ip, was.services, []);
        this.deps.logger.info('stopped announcing', { ip, services: was.services });
      }
    }
    for (const [ip, a] of next) {
      for (const name of a.links) {
        const l = this.links.get(name);
        if (l) this.announcer.start(ip, l);
      }
      const was = this.served.get(ip);
      if (!was) this.deps.logger.info('announcing', { ip, services: a.services, interfaces: a.links });
      // The series already say so when the IP serves the same services: setting them again per
      // recompute would cost a label lookup per announced IP per change of any Service.
      if (!was || !sameList(was.services, a.services))
        this.metrics.announced(ip, was?.services ?? [], a.services);
    }
  }

  private logVerdict(verdict: MembershipVerdict, alive: ReadonlySet<string>): void {
    const was = this.lastVerdict;
    this.lastVerdict = verdict;
    if (was?.state === verdict.state) return;
    const level = verdict.state === 'fenced' ? 'warn' : 'info';
    this.deps.logger[level](`membership verdict: ${verdict.state}`, {
      reason: verdict.reason,
      was: was?.state,
      alive: [...alive].sort(),
    });
  }

  private logWinners(decisions: readonly ServiceDecision[]): void {
    for (const d of decisions) {
      if (this.winners.get(d.service) === d.winner) continue;
      this.winners.set(d.service, d.winner);
      this.deps.logger.debug('election', { key: d.service, winner: d.winner, candidates: d.candidates });
    }
    const decided = new Set(decisions.map((d) => d.service));
    for (const key of [...this.winners.keys()]) if (!decided.has(key)) this.winners.delete(key);
  }

  /**
   * Level-based like the recompute: reads the membership and caches again and writes what they
   * imply. nodeAssigned is emitted when this node's object is created or taken over, so a fence
   * the withdrawal grace absorbs costs no event either.
   */
  private async syncL2Statuses(): Promise<SyncResult> {
    // After stop() began, stop() itself removes our objects.
    if (!this.running) return { kind: 'ok' };
    const now = Date.now();
    const snapshot = this.membership.snapshot(now);
    const { alive, decisions, served } = this.decide(snapshot);
    const want = l2StatusWant(served.values(), {
      verdict: snapshot.verdict.state,
      alive,
      winners: new Map(decisions.map((d) => [d.service, d.winner])),
    });
    try {
      const { claimed, recheckAt } = await this.l2Status.sync(want, now);
      for (const svc of claimed) this.emitAssigned(svc);
      return recheckAt !== undefined ? { kind: 'requeueAfter', ms: recheckAt - now } : { kind: 'ok' };
    } catch (error) {
      this.deps.clientMetrics.recordUpdate(false);
      return { kind: 'retry', error };
    }
  }

  private emitAssigned(service: string): void {
    const svc = this.caches.services.get(service);
    if (!svc) return;
    void this.deps.events.emit(
      svc,
      'Normal',
      'nodeAssigned',
      `announcing from node "${this.opts.nodeName}" with protocol "layer2"`,
    );
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}
