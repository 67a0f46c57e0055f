import { performance } from 'node:perf_hooks';
import type { KubeWriter } from './ports.js';
import { isNotFound, isAlreadyExists } from './kube-error.js';
import { leaseRef, type Lease } from './lease-elector.js';
import { silentLogger, type Logger } from './logger.js';
import type { CacheFactory, ResourceCache } from './resource-cache.js';
import { formatMicroTime, parseTimeMs } from './time.js';

export interface LeaseHeartbeatOptions {
  namespace: string;
  /** Lease name is `${prefix}${identity}`. */
  prefix: string;
  identity: string;
  /** Renewal period, e.g. 1000. */
  renewMs: number;
  /** How long a renewal keeps the member alive (whole seconds on the wire, min 1). e.g. 3000 */
  leaseDurationMs: number;
  labels?: Record<string, string>;
  logger?: Logger;
}

type HeartbeatApi = Pick<KubeWriter, 'create' | 'patch' | 'delete'>;

/**
 * Keeps this member's own Lease renewed. Failures are logged and retried on the next tick;
 * `release()` deletes the Lease so the others see a planned leave at once.
 */
export class LeaseHeartbeat {
  private readonly logger: Logger;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private inFlight: Promise<void> | undefined;
  private lastOkMs = 0;
  readonly leaseName: string;

  constructor(
    private readonly kube: HeartbeatApi,
    private readonly opts: LeaseHeartbeatOptions,
  ) {
    this.leaseName = `${opts.prefix}${opts.identity}`;
    this.logger = (opts.logger ?? silentLogger).child({ lease: `${opts.namespace}/${this.leaseName}` });
  }

  /** Renews once now, then every `renewMs`. Resolves after the first attempt. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.tick();
  }

  /**
   * When (ms since epoch) the last successful renewal was sent; 0 if none. Peers count the
   * member's life from the renewTime it carried, which is the send time, not when the answer came.
   */
  lastRenewed(): number {
    return this.lastOkMs;
  }

  /** Stops renewing without deleting the Lease (the member then expires, like a crash). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Stops renewing and deletes the Lease: a planned leave. */
  async release(): Promise<void> {
    await this.stop();
    try {
      await this.kube.delete(leaseRef(this.opts.namespace, this.leaseName));
      this.logger.info('membership lease released');
    } catch (error) {
      if (!isNotFound(error)) this.logger.warn('deleting the membership lease failed', { error });
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    this.inFlight = this.renew();
    await this.inFlight;
    this.inFlight = undefined;
    if (this.stopped) return;
    const wait = Math.max(0, this.opts.renewMs - (Date.now() - started));
    this.timer = setTimeout(() => void this.tick(), wait);
  }

  private async renew(): Promise<void> {
    const sentAt = Date.now();
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000)),
      renewTime: formatMicroTime(new Date(sentAt)),
    };
    const ref = leaseRef(this.opts.namespace, this.leaseName);
    // Waiting longer than a period for one answer only delays the next, fresher renewal.
    const timeoutMs = this.opts.renewMs;
    try {
      await this.kube.patch(ref, { spec }, { type: 'merge', timeoutMs });
      this.lastOkMs = sentAt;
      return;
    } catch (error) {
      if (!isNotFound(error)) {
        this.logger.warn('renewing membership lease failed', { error });
        return;
      }
    }
    try {
      await this.kube.create<Lease>(
        {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: this.leaseName, namespace: this.opts.namespace, labels: this.opts.labels },
          spec: { ...spec, acquireTime: spec.renewTime },
        },
        { timeoutMs },
      );
      this.lastOkMs = sentAt;
      this.logger.info('membership lease created');
    } catch (error) {
      if (!isAlreadyExists(error)) this.logger.warn('creating membership lease failed', { error });
    }
  }
}

export interface LeaseMembershipOptions {
  namespace: string;
  prefix: string;
  /** How often to re-evaluate liveness between lease events. Default 200 ms. */
  checkIntervalMs?: number;
  labelSelector?: string;
  logger?: Logger;
  /** Wall clock (ms since epoch) used to judge the age of a lease seen for the first time and
   * to read the instant passed to `alive(at)`. Default Date.now. */
  now?: () => number;
}

export type MembershipListener = (alive: Set<string>) => void;

/**
 * Watches the Leases named `${prefix}<identity>` and tells who is alive: a member is alive while
 * its last renewal is within its lease duration. Death shows as the absence of renewals, so the
 * alive set is re-evaluated on every lease event and on a timer.
 *
 * Liveness must not depend on the members' clocks agreeing with ours. Only the first sighting of
 * a member uses its renewTime, as min(renewTime, now), so a stale lease found at start-up is
 * judged by its age and a renewTime in the future cannot extend a life. Every later change of
 * renewTime counts from when we received it, on our monotonic clock: a peer whose clock is
 * behind stays alive while it renews, and dies once it stops, whatever its timestamps say.
 */
export class LeaseMembership {
  private readonly cache: ResourceCache<Lease>;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Monotonic clock for local durations. */
  private readonly monoNow = (): number => performance.now();
  /** identity -> (renewTime string, effective renewal on the monotonic clock, duration ms) */
  private readonly seen = new Map<string, { renewTime: string; renewedMono: number; durationMs: number }>();
  private readonly listeners = new Set<MembershipListener>();
  private last = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    kube: CacheFactory,
    private readonly opts: LeaseMembershipOptions,
  ) {
    this.logger = (opts.logger ?? silentLogger).child({ membership: `${opts.namespace}/${opts.prefix}*` });
    this.now = opts.now ?? Date.now;
    this.cache = kube.watchCache<Lease>({
      ...leaseRef(opts.namespace),
      plural: 'leases',
      labelSelector: opts.labelSelector,
      logger: opts.logger,
    });
    this.cache.onChange((key, lease) => this.observe(key, lease));
    this.timer = setInterval(() => this.check(), opts.checkIntervalMs ?? 200);
    this.timer.unref?.();
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    return this.cache.waitForSync(signal);
  }

  hasSynced(): boolean {
    return this.cache.hasSynced();
  }

  /** Members whose renewal is within their lease duration at `atMs` (ms since epoch; default now). */
  alive(atMs?: number): Set<string> {
    const mono = this.monoNow() + (atMs === undefined ? 0 : atMs - this.now());
    const out = new Set<string>();
    for (const [id, s] of this.seen) if (s.renewedMono + s.durationMs > mono) out.add(id);
    return out;
  }

  /** Called with the new alive set whenever it changes. Returns an unsubscribe function. */
  onChange(listener: MembershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.cache.stop();
  }

  private observe(key: string, lease: Lease | undefined): void {
    const name = key.slice(key.indexOf('/') + 1);
    if (!name.startsWith(this.opts.prefix)) return;
    const id = name.slice(this.opts.prefix.length);
    const spec = lease?.spec;
    if (!lease || !spec?.holderIdentity) {
      this.seen.delete(id);
    } else {
      const prev = this.seen.get(id);
      const renewTime = spec.renewTime ?? '';
      const durationMs = (spec.leaseDurationSeconds ?? 1) * 1000;
      if (!prev) {
        const parsed = parseTimeMs(renewTime);
        // No renewTime: never renewed, so not alive until it is.
        const ageMs = Number.isNaN(parsed) ? Infinity : Math.max(0, this.now() - parsed);
        this.seen.set(id, { renewTime, renewedMono: this.monoNow() - ageMs, durationMs });
      } else if (prev.renewTime !== renewTime) {
        prev.renewTime = renewTime;
        prev.renewedMono = this.monoNow();
        prev.durationMs = durationMs;
      } else {
        prev.durationMs = durationMs;
      }
    }
    this.check();
  }

  private check(): void {
    const now = this.alive();
    if (sameSet(now, this.last)) return;
    const joined = [...now].filter((m) => !this.last.has(m));
    const left = [...this.last].filter((m) => !now.has(m));
    this.last = now;
    this.logger.info('membership changed', { alive: [...now].sort(), joined, left });
    for (const l of this.listeners) {
      try {
        l(new Set(now));
      } catch (error) {
        this.logger.error('membership listener threw', { error });
      }
    }
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
