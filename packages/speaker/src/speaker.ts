import {
  ANNOTATIONS,
  configInputChanged,
  GROUP,
  isOurLoadBalancer,
  l2AnnouncementFor,
  poolOfAddress,
  type AddressPool,
  type Config,
  type IPAddressPool,
  type L2Advertisement,
  type ServiceL2Status,
} from '@metallb-ts/api';
import { LastGoodConfig } from '@metallb-ts/api';
import { parseMac } from '@metallb-ts/l2-proto';
import type {
  EventRecorder,
  K8sClientMetrics,
  CacheFactory,
  KubeWriter,
  KubeObject,
  Logger,
  ResourceCache,
  SyncResult,
  EndpointSlice,
  Node as KubeNode,
  Service,
} from '@metallb-ts/k8s-runtime';
import {
  objectKey,
  LeaseHeartbeat,
  LeaseMembership,
  WorkQueue,
  type Registry,
} from '@metallb-ts/k8s-runtime';
import {
  decideAnnouncements,
  type Announcement,
  type SpeakerView,
  type ViewService,
} from './announcements.js';
import { Announcer, DEFAULT_ANNOUNCER_OPTIONS, type AnnouncerOptions } from './announcer.js';
import type { NodeFacts } from './candidates.js';
import { endpointFacts } from './endpoints.js';
import { selfAlive } from './fence.js';
import { planLinkChanges, readLinks, selectLinks, type LinkInfo, type OpenLinkState } from './interfaces.js';
import { openLink, type WireLink } from './pcap-link.js';
import { planL2Statuses, type AnnouncedService, type L2StatusCleanup } from './l2-status.js';
import { writeL2StatusPlan } from './l2-status-writer.js';
import { respond, type AnnouncedOn, type ResponderLink } from './responder.js';
import { startupHold } from './startup-hold.js';
import { SpeakerMetrics } from './speaker-metrics.js';

export interface SpeakerOptions {
  nodeName: string;
  namespace: string;
  exclude: readonly RegExp[];
  membership: { renewMs: number; leaseDurationMs: number };
  announcer?: AnnouncerOptions;
  ignoreExcludeLabel?: boolean;
  /** Serve only Services of this `spec.loadBalancerClass` (unset: only Services without one). */
  loadBalancerClass?: string;
}

/** How the speaker reaches the machine's links: the OS and libpcap unless a test says otherwise. */
export interface LinkAccess {
  readLinks: () => LinkInfo[];
  openLink: typeof openLink;
}

export interface SpeakerDeps {
  /** Caches, the membership Lease and ServiceL2Status writes. */
  kube: CacheFactory & Pick<KubeWriter, 'create' | 'patch' | 'delete'>;
  events: EventRecorder;
  logger: Logger;
  registry: Registry;
  clientMetrics: K8sClientMetrics;
  links?: LinkAccess;
}

interface OpenLink extends OpenLinkState {
  wire: WireLink;
  macBytes: Buffer;
}

/** How often interfaces are re-read, to pick up links that appear, vanish or fail after start. */
const LINK_RESCAN_MS = 10_000;

const MEMBER_PREFIX = 'speaker-';
const RECOMPUTE = 'announcements';
/** ServiceL2Status writes run under their own key, so slow API calls never delay (un)announcing. */
const L2STATUS = 'l2status';

/**
 * One speaker on one node. Every change to services, endpoints, nodes, pools or membership
 * triggers the same level-based recompute of what this node must announce; the difference to what
 * it announces now becomes start/stop calls on the announcer and the responder's lookup table.
 */
export class Speaker {
  private readonly services: ResourceCache<Service>;
  private readonly slices: ResourceCache<EndpointSlice>;
  private readonly nodes: ResourceCache<KubeNode>;
  private readonly ipAddressPools: ResourceCache<IPAddressPool>;
  private readonly addressPools: ResourceCache<AddressPool>;
  private readonly l2Advertisements: ResourceCache<L2Advertisement>;
  /** Every ServiceL2Status: ours, and other nodes' ones we may have to clean up. */
  private readonly l2Statuses: ResourceCache<ServiceL2Status>;
  private readonly heartbeat: LeaseHeartbeat;
  private readonly membership: LeaseMembership;
  private readonly queue: WorkQueue;
  private readonly announcer: Announcer;
  private readonly metrics: SpeakerMetrics;
  private readonly configState = new LastGoodConfig();
  private config: Config | undefined;
  private readonly links = new Map<string, OpenLink>();
  /** ip -> announcement currently served (who and on which links). */
  private current = new Map<string, Announcement & { links: string[] }>();
  private winners = new Map<string, string | undefined>();
  /** Who is alive per the last recompute (with ourselves only when not fenced or holding). */
  private aliveAtLastRecompute: ReadonlySet<string> = new Set();
  private running = false;
  /** When our own lease first showed up in the membership watch (see startupHold). */
  private selfSeenAt: number | undefined;
  private holding: boolean | undefined;
  /** The fence verdict the last recompute used; the fence timer recomputes only when it flips. */
  private selfAliveLast: boolean | undefined;
  /** Fenced or holding at the last recompute: we must not judge other nodes' status objects then. */
  private withdrawn = true;

  constructor(
    private readonly opts: SpeakerOptions,
    private readonly deps: SpeakerDeps,
  ) {
    const { kube, logger } = deps;
    this.services = kube.watchCache<Service>({
      apiVersion: 'v1',
      kind: 'Service',
      plural: 'services',
      logger,
    });
    this.slices = kube.watchCache<EndpointSlice>({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      plural: 'endpointslices',
      logger,
    });
    this.nodes = kube.watchCache<KubeNode>({ apiVersion: 'v1', kind: 'Node', plural: 'nodes', logger });
    const crd = <T extends KubeObject>(kind: string, plural: string) =>
      kube.watchCache<T>({ apiVersion: `${GROUP}/v1beta1`, kind, plural, namespace: opts.namespace, logger });
    this.ipAddressPools = crd<IPAddressPool>('IPAddressPool', 'ipaddresspools');
    this.addressPools = crd<AddressPool>('AddressPool', 'addresspools');
    this.l2Advertisements = crd<L2Advertisement>('L2Advertisement', 'l2advertisements');
    this.l2Statuses = kube.watchCache<ServiceL2Status>({
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'ServiceL2Status',
      plural: 'servicel2statuses',
      namespace: opts.namespace,
      logger,
    });
    const lease = { namespace: opts.namespace, prefix: MEMBER_PREFIX, logger };
    this.heartbeat = new LeaseHeartbeat(kube, {
      ...lease,
      identity: opts.nodeName,
      ...opts.membership,
      labels: { 'app.kubernetes.io/component': 'speaker' },
    });
    this.membership = new LeaseMembership(kube, {
      ...lease,
      checkIntervalMs: Math.min(250, opts.membership.renewMs),
    });
    this.metrics = new SpeakerMetrics(deps.registry, opts.nodeName);
    this.announcer = new Announcer({
      ...(opts.announcer ?? DEFAULT_ANNOUNCER_OPTIONS),
      onSent: (ip, _link, frames) => this.metrics.gratuitousSent(ip, frames),
      onError: (ip, link, error) => logger.warn('sending announcement failed', { ip, link, error }),
    });
    this.queue = new WorkQueue({ logger });
  }

  get ready(): boolean {
    return this.running;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.syncLinks(true);
    await this.heartbeat.start();
    const caches = this.recomputeSources();
    await Promise.all([
      ...caches.map((c) => c.waitForSync(signal)),
      this.l2Statuses.waitForSync(signal),
      this.membership.waitForSync(signal),
    ]);
    const recompute = () => this.queue.add(RECOMPUTE);
    for (const c of [this.services, this.slices, this.nodes]) c.onChange(recompute);
    // The controller writes pool usage into status after every allocation: only a change the
    // config depends on is worth rebuilding it.
    for (const c of [this.ipAddressPools, this.addressPools, this.l2Advertisements])
      c.onChange((_key, obj, prev) => {
        if (!configInputChanged(prev, obj)) return;
        this.config = undefined;
        recompute();
      });
    this.l2Statuses.onChange(() => this.queue.add(L2STATUS));
    // LeaseMembership logs who joined and left; here it only triggers a recompute.
    this.membership.onChange(recompute);
    // Our own liveness can lapse while nothing else moves: watch the verdict, recompute on a flip.
    const fence = setInterval(
      () => {
        if (this.selfAliveAt(Date.now()) !== this.selfAliveLast) recompute();
      },
      Math.min(250, this.opts.membership.renewMs),
    );
    fence.unref();
    const rescan = setInterval(() => {
      if (this.running && this.syncLinks(false)) recompute();
    }, LINK_RESCAN_MS);
    rescan.unref();
    signal.addEventListener('abort', () => {
      clearInterval(fence);
      clearInterval(rescan);
    });
    this.running = true;
    recompute();
    // Two workers: a key is never handled twice at once, so announcing and status writes proceed
    // side by side, and a status write stuck on a slow API server never holds back fencing.
    void this.queue.run((key) => (key === L2STATUS ? this.syncL2Statuses() : this.recompute()), {
      concurrency: 2,
    });
  }

  /** Planned leave: stop answering, then drop our lease so a peer takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    // Silence first: draining the queue can wait on API calls, and a peer may already announce.
    this.announcer.stopAll();
    this.current.clear();
    await this.queue.shutdown();
    await this.heartbeat.release();
    // The successor writes its own status; ours would claim an announcement that ended.
    await this.writeL2Statuses(new Map()).catch((error) =>
      this.deps.logger.warn('removing ServiceL2Status objects failed', { error }),
    );
    for (const l of this.links.values()) l.wire.close();
    this.links.clear();
    await this.membership.stop();
    for (const c of [...this.recomputeSources(), this.l2Statuses]) await c.stop();
  }

  /** The caches whose every change means "recompute what this node announces". */
  private recomputeSources() {
    return [
      this.services,
      this.slices,
      this.nodes,
      this.ipAddressPools,
      this.addressPools,
      this.l2Advertisements,
    ] as const;
  }

  /**
   * Opens the links to answer on and closes those gone or failed; true when anything changed, so
   * the caller recomputes which links each address is announced on.
   */
  private syncLinks(initial: boolean): boolean {
    let links: LinkInfo[];
    try {
      links = (this.deps.links?.readLinks ?? readLinks)();
    } catch (error) {
      this.deps.logger.error('cannot read interfaces', { error });
      return false;
    }
    const { use, skipped } = selectLinks(links, this.opts.exclude);
    if (initial) {
      for (const s of skipped) this.deps.logger.debug('interface skipped', { interface: s.name, why: s.why });
      if (use.length === 0) this.deps.logger.error('no interface to answer on', { skipped });
    }
    const plan = planLinkChanges(this.links, use);
    for (const name of plan.close) {
      const l = this.links.get(name);
      // The announcer holds a sender bound to this wire: drop it so the next recompute rebinds.
      for (const [ip, a] of this.current) if (a.links.includes(name)) this.announcer.stop(ip, name);
      l?.wire.close();
      this.links.delete(name);
      this.deps.logger.info('stopped answering on interface', { interface: name, errored: l?.errored });
    }
    let opened = 0;
    for (const l of plan.open) {
      const parsed = parseMac(l.mac);
      // selectLinks only passes links with a valid MAC.
      if (!parsed.ok) continue;
      const macBytes = parsed.value;
      // Built once per link: the per-frame path allocates nothing of its own before deciding.
      const responder: ResponderLink = { name: l.name, mac: macBytes };
      try {
        const entry: OpenLink = {
          mac: l.mac,
          macBytes,
          errored: false,
          wire: (this.deps.links?.openLink ?? openLink)(
            l.name,
            (frame) => this.onFrame(responder, entry.wire, frame),
            (error) => {
              entry.errored = true;
              this.deps.logger.error('capture error', { interface: l.name, error });
            },
          ),
        };
        this.links.set(l.name, entry);
        opened++;
        this.deps.logger.info('answering on interface', { interface: l.name, mac: l.mac });
      } catch (error) {
        this.deps.logger.error('cannot open interface', { interface: l.name, error });
      }
    }
    return plan.close.length > 0 || opened > 0;
  }

  private readonly announcedOn: AnnouncedOn = (ip, on) => this.current.get(ip)?.links.includes(on) ?? false;

  private onFrame(link: ResponderLink, wire: WireLink, frame: Buffer): void {
    const verdict = respond(frame, link, this.announcedOn);
    // Counted per owned IP only: labelling every address asked about on the LAN would explode the series.
    if (verdict.kind !== 'reply') return;
    this.metrics.requestReceived(verdict.ip);
    try {
      wire.inject(verdict.frame);
    } catch (error) {
      // One lost reply (the asker retries); not a broken capture, so the link stays open.
      this.deps.logger.warn('sending reply failed', { ip: verdict.ip, interface: link.name, error });
      return;
    }
    this.metrics.responseSent(verdict.ip);
  }

  private loadConfig(): Config {
    if (this.config) return this.config;
    const { config, errors } = this.configState.update({
      addressPools: this.addressPools.list(),
      ipAddressPools: this.ipAddressPools.list(),
      l2Advertisements: this.l2Advertisements.list(),
    });
    // The controller reports these on the objects; the speaker only notes that it saw them.
    if (errors.length > 0)
      this.deps.logger.warn('configuration has invalid objects', { errors: errors.map((e) => e.message) });
    this.deps.clientMetrics.setConfigLoaded(true);
    this.deps.clientMetrics.setConfigStale(errors.length > 0);
    this.config = config;
    return config;
  }

  private selfAliveAt(now: number, alive: Set<string> = this.membership.alive(now)): boolean {
    return selfAlive({
      now,
      lastRenewedMs: this.heartbeat.lastRenewed(),
      ...this.opts.membership,
      watchShowsSelf: alive.has(this.opts.nodeName),
    });
  }

  private view(): SpeakerView {
    const config = this.loadConfig();
    const now = Date.now();
    const alive = this.membership.alive(now);
    if (this.selfSeenAt === undefined && alive.has(this.opts.nodeName)) this.selfSeenAt = now;
    const nodes: NodeFacts[] = this.nodes.list().map((n) => ({
      name: n.metadata?.name ?? '',
      labels: n.metadata?.labels ?? {},
      networkUnavailable: (n.status?.conditions ?? []).some(
        (c) => c.type === 'NetworkUnavailable' && c.status === 'True',
      ),
    }));
    const hold = startupHold({
      now,
      selfSeenAt: this.selfSeenAt,
      settleMs: this.opts.membership.renewMs,
      alive,
      nodes: nodes.map((n) => n.name),
    });
    // Fencing: if our own renewals fail (we are cut off from the API server) peers will soon
    // elect someone else, so we must stop answering too rather than split the VIP.
    const self = this.selfAliveAt(now, alive);
    if (self !== this.selfAliveLast && this.selfAliveLast !== undefined)
      this.deps.logger[self ? 'info' : 'warn'](
        self ? 'own lease is live again; unfenced' : 'own lease may have lapsed; fenced',
        { lastRenewed: this.heartbeat.lastRenewed(), watchShowsSelf: alive.has(this.opts.nodeName) },
      );
    this.selfAliveLast = self;
    this.withdrawn = hold.hold || !self;
    if (this.withdrawn) alive.delete(this.opts.nodeName);
    else alive.add(this.opts.nodeName);
    if (hold.untilMs !== undefined) this.queue.addAfter(RECOMPUTE, hold.untilMs - now);
    if (hold.hold !== this.holding) {
      this.holding = hold.hold;
      this.deps.logger.info(
        hold.hold ? 'holding announcements until membership settles' : 'membership settled; announcing',
        { alive: [...alive].sort() },
      );
    }
    const bySvc = new Map<string, EndpointSlice[]>();
    for (const s of this.slices.list()) {
      const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const key = `${s.metadata?.namespace}/${svc}`;
      const list = bySvc.get(key);
      if (list) list.push(s);
      else bySvc.set(key, [s]);
    }
    const services: SpeakerView['services'] = [];
    for (const svc of this.services.list()) {
      if (!isOurLoadBalancer(svc, this.opts.loadBalancerClass).ours) continue;
      const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
      if (ips.length === 0) continue;
      const key = objectKey(svc);
      const facts = endpointFacts((bySvc.get(key) ?? []).flatMap((s) => s.endpoints ?? []));
      const entry: ViewService = {
        key,
        ips,
        labels: svc.metadata?.labels ?? {},
        externalTrafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
        ...facts,
      };
      const pool =
        svc.metadata?.annotations?.[ANNOTATIONS.ipAllocatedFromPool] ?? poolOfAddress(config, ips[0] ?? '');
      if (pool) entry.pool = pool;
      services.push(entry);
    }
    return {
      me: this.opts.nodeName,
      services,
      nodes,
      alive,
      // An address in no pool we know is not ours to announce.
      policy: (pool, node, service) =>
        pool ? l2AnnouncementFor(config, pool, node, service) : { announce: false, interfaces: [] },
      ignoreExcludeLabel: this.opts.ignoreExcludeLabel,
    };
  }

  /** Synchronous on purpose: nothing here waits on I/O, so fencing takes effect at once. */
  private recompute(): SyncResult {
    if (!this.running) return { kind: 'ok' };
    const view = this.view();
    this.aliveAtLastRecompute = view.alive;
    const { decisions, announce } = decideAnnouncements(view);
    const allLinks = [...this.links.keys()];
    const next = new Map<string, Announcement & { links: string[] }>();
    for (const [ip, a] of announce) {
      const links = a.interfaces.length === 0 ? allLinks : a.interfaces.filter((i) => this.links.has(i));
      next.set(ip, { ...a, links });
    }
    for (const [ip, was] of this.current) {
      const now = next.get(ip);
      for (const link of was.links) if (!now?.links.includes(link)) this.announcer.stop(ip, link);
      if (!now) {
        this.metrics.announced(ip, was.services, []);
        this.deps.logger.info('stopped announcing', { ip, services: was.services });
      }
    }
    for (const [ip, a] of next) {
      for (const link of a.links) {
        const l = this.links.get(link);
        if (l) this.announcer.start(ip, { name: link, mac: l.macBytes, inject: (f) => l.wire.inject(f) });
      }
      const was = this.current.get(ip);
      if (!was) this.deps.logger.info('announcing', { ip, services: a.services, interfaces: a.links });
      this.metrics.announced(ip, was?.services ?? [], a.services);
    }
    this.current = next;
    for (const d of decisions) {
      if (this.winners.get(d.service) === d.winner) continue;
      this.winners.set(d.service, d.winner);
      this.deps.logger.debug('election', { key: d.service, winner: d.winner, candidates: d.candidates });
      const svc = this.services.get(d.service);
      if (d.winner === this.opts.nodeName && svc) {
        void this.deps.events.emit(
          svc,
          'Normal',
          'nodeAssigned',
          `announcing from node "${this.opts.nodeName}" with protocol "layer2"`,
        );
      }
    }
    const decided = new Set(decisions.map((d) => d.service));
    for (const key of [...this.winners.keys()]) if (!decided.has(key)) this.winners.delete(key);
    this.queue.add(L2STATUS);
    return { kind: 'ok' };
  }

  private async syncL2Statuses(): Promise<SyncResult> {
    // After stop() began, stop() itself removes our objects.
    if (!this.running) return { kind: 'ok' };
    try {
      await this.writeL2Statuses(
        this.current,
        this.withdrawn
          ? undefined
          : {
              alive: this.aliveAtLastRecompute,
              hasWinner: (svc) => this.winners.get(svc) !== undefined,
            },
      );
    } catch (error) {
      this.deps.clientMetrics.recordUpdate(false);
      return { kind: 'retry', error };
    }
    return { kind: 'ok' };
  }

  /** Makes this node's ServiceL2Status objects match what it announces now. */
  private async writeL2Statuses(
    announced: Map<string, Announcement & { links: string[] }>,
    cleanup?: L2StatusCleanup,
  ): Promise<void> {
    const perService = new Map<string, Set<string>>();
    for (const a of announced.values()) {
      for (const svc of a.services)
        perService.set(svc, new Set([...(perService.get(svc) ?? []), ...a.links]));
    }
    const want: AnnouncedService[] = [...perService].map(([service, links]) => ({
      service,
      interfaces: [...links],
    }));
    const plan = planL2Statuses(
      this.opts.namespace,
      this.opts.nodeName,
      want,
      this.l2Statuses.list(),
      (svc) => this.services.get(svc) !== undefined,
      cleanup,
    );
    await writeL2StatusPlan(this.deps.kube, this.opts.namespace, plan);
  }
}
