import {
  LeaseHeartbeat,
  LeaseMembership,
  type CacheFactory,
  type KubeWriter,
  type Logger,
} from '@metallb-ts/k8s-runtime';
import { selfAlive } from './fence.js';
import type { MembershipPort, MembershipSnapshot, MembershipVerdict, Readiness } from './membership-port.js';
import { startupHold } from './startup-hold.js';

export interface LeaseMembershipPortOptions {
  nodeName: string;
  namespace: string;
  renewMs: number;
  leaseDurationMs: number;
  /** The Nodes the API server knows, for the startup hold ("every Node's speaker is alive"). */
  nodeNames: () => string[];
  logger: Logger;
}

const MEMBER_PREFIX = 'speaker-';

/**
 * Membership through one Lease per speaker, renewed every `renewMs` (about one API write per
 * speaker per second). Kept for tests and as a fallback; gossip is the default. A speaker whose own
 * renewals lapse fences itself a renewal period before its peers would take over.
 */
export class LeaseMembershipPort implements MembershipPort {
  private readonly heartbeat: LeaseHeartbeat;
  private readonly membership: LeaseMembership;
  private readonly listeners: (() => void)[] = [];
  /** When our own lease first showed up in the membership watch (see startupHold). */
  private selfSeenAt: number | undefined;
  /** The verdict the timer last told the listeners about (only the timer reads and writes it). */
  private notifiedState: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    kube: CacheFactory & Pick<KubeWriter, 'create' | 'patch' | 'delete'>,
    private readonly o: LeaseMembershipPortOptions,
  ) {
    const lease = { namespace: o.namespace, prefix: MEMBER_PREFIX, logger: o.logger };
    this.heartbeat = new LeaseHeartbeat(kube, {
      ...lease,
      identity: o.nodeName,
      renewMs: o.renewMs,
      leaseDurationMs: o.leaseDurationMs,
      labels: { 'app.kubernetes.io/component': 'speaker' },
    });
    this.membership = new LeaseMembership(kube, { ...lease, checkIntervalMs: Math.min(250, o.renewMs) });
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.heartbeat.start();
    await this.membership.waitForSync(signal);
    this.membership.onChange(() => this.notify());
    // Our own liveness can lapse while nothing else moves: notify when the verdict flips.
    this.timer = setInterval(
      () => {
        const state = this.snapshot(Date.now()).verdict.state;
        if (state === this.notifiedState) return;
        this.notifiedState = state;
        this.notify();
      },
      Math.min(250, this.o.renewMs),
    );
    this.timer.unref();
  }

  snapshot(now: number): MembershipSnapshot {
    const alive = this.membership.alive(now);
    const me = this.o.nodeName;
    if (this.selfSeenAt === undefined && alive.has(me)) this.selfSeenAt = now;
    const hold = startupHold({
      now,
      selfSeenAt: this.selfSeenAt,
      settleMs: this.o.renewMs,
      alive,
      nodes: this.o.nodeNames(),
    });
    const self = selfAlive({
      now,
      lastRenewedMs: this.heartbeat.lastRenewed(),
      renewMs: this.o.renewMs,
      leaseDurationMs: this.o.leaseDurationMs,
      watchShowsSelf: alive.has(me),
    });
    alive.delete(me);
    const verdict: MembershipVerdict = !self
      ? { state: 'fenced', reason: 'own lease may have lapsed (renewals failing or the watch lags)' }
      : hold.hold
        ? {
            state: 'holding',
            reason: 'starting: waiting until every Node has a live lease or the settle time passed',
          }
        : { state: 'alive', reason: 'own lease is live' };
    return { alive, verdict, ...(hold.untilMs !== undefined ? { recheckAt: hold.untilMs } : {}) };
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  readiness(): Readiness {
    return { ready: true };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.heartbeat.release();
    await this.membership.stop();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
