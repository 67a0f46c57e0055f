import { performance } from 'node:perf_hooks';
import type { KubeReader, KubeWriter } from './ports.js';
import { isConflict, isNotFound, isAlreadyExists } from './kube-error.js';
import { silentLogger, type Logger } from './logger.js';
import { formatMicroTime } from './time.js';
import type { KubeObject, OwnerReference } from './types.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export const leaseRef = (namespace: string, name?: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespace,
  name,
});

export interface LeaseElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease stays valid without renewal (what followers wait). e.g. 15000 */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leadership. e.g. 10000 */
  renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew. e.g. 2000 */
  retryPeriodMs: number;
  /** Called when this process becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost, released or stopped). */
  onStoppedLeading: () => void | Promise<void>;
  /** Called whenever the observed leader changes (including to ourselves). */
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
  /** Wall clock for the timestamps written into the Lease. Default Date.now. */
  now?: () => number;
  /**
   * Written on the Lease when this elector creates or takes it (e.g. the Deployment running the
   * candidates), so the garbage collector deletes the Lease with its owner.
   */
  ownerReferences?: readonly OwnerReference[];
}

type LeaseApi = Pick<KubeReader, 'get'> & Pick<KubeWriter, 'create' | 'replace'>;

/**
 * Leader election on a coordination.k8s.io/v1 Lease. Followers judge expiry by their own clock
 * (when they last saw the lease change), never by comparing the leader's timestamps with
 * theirs, so clock skew between hosts does not matter.
 *
 * `run(signal)` campaigns until `signal` aborts: after losing leadership it calls
 * `onStoppedLeading` and campaigns again. `release()` hands the lease back at once.
 */
export class LeaseElector {
  private readonly kube: LeaseApi;
  private readonly opts: LeaseElectorOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Monotonic clock for local durations: a wall-clock step must not stretch or cut them. */
  private readonly monoNow = (): number => performance.now();
  private leading = false;
  private leaderAbort: AbortController | undefined;
  /** Fires at the renew deadline, even while a renewal hangs, and steps down. */
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** onStoppedLeading of a step-down started by the deadline timer. */
  private steppingDown: Promise<void> | undefined;
  /** Monotonic send time of the last attempt that ended holding the lease. */
  private lastHeldSentMono = 0;
  /** The last lease we saw and when (monotonic clock) we saw it change. */
  private observed: { holder: string; renewTime: string; atMono: number } | undefined;
  private lastLease: Lease | undefined;
  private knownLeader = '';
  private wakeUp: (() => void) | undefined;
  private released = false;
  /** The acquire/renew round in flight, so `release()` does not race it. */
  private attempt: Promise<boolean> | undefined;
  private releasing: Promise<void> | undefined;

  constructor(kube: LeaseApi, opts: LeaseElectorOptions) {
    if (opts.renewDeadlineMs >= opts.leaseDurationMs) {
      throw new Error('renewDeadlineMs must be shorter than leaseDurationMs');
    }
    this.kube = kube;
    this.opts = opts;
    this.logger = (opts.logger ?? silentLogger).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: opts.identity,
    });
    this.now = opts.now ?? Date.now;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Identity of the leader last observed ('' if none). */
  leader(): string {
    return this.knownLeader;
  }

  async run(signal: AbortSignal): Promise<void> {
    this.released = false;
    this.releasing = undefined;
    const wake = (): void => this.wakeUp?.();
    signal.addEventListener('abort', wake);
    try {
      while (!signal.aborted && !this.released) {
        // Campaign.
        while (!signal.aborted && !this.released) {
          if (await this.tryAcquireOrRenew()) break;
          await this.pause(this.jittered(this.opts.retryPeriodMs), signal);
        }
        if (signal.aborted || this.released) break;
        await this.becomeLeader();
        // Renew until we cannot for renewDeadline. The deadline counts from when the last
        // successful renewal was sent (the renewTime others see), and a timer enforces it even
        // while a request hangs: two leaders at once is what this whole class exists to prevent.
        while (!signal.aborted && !this.released && this.leading) {
          await this.pause(this.opts.retryPeriodMs, signal);
          if (signal.aborted || this.released || !this.leading) break;
          const leftMs = this.opts.renewDeadlineMs - (this.monoNow() - this.lastHeldSentMono);
          const renewed = await this.tryAcquireOrRenew(Math.min(this.opts.retryPeriodMs, leftMs));
          if (!this.leading) break; // the deadline passed while the renewal was in flight
          if (renewed) {
            this.armDeadline();
            continue;
          }
          if (this.knownLeader !== this.opts.identity && this.knownLeader !== '') {
            this.logger.warn('another process holds the lease, stepping down', { leader: this.knownLeader });
            break;
          }
        }
        this.clearDeadline();
        if (this.leading && !this.released) await this.stopLeading();
        await this.steppingDown;
      }
      if (signal.aborted && !this.released) await this.release();
      await this.releasing;
    } finally {
      signal.removeEventListener('abort', wake);
    }
  }

  /**
   * Gives the lease up (empty holder) so a successor takes over without waiting for expiry,
   * stops leading and ends `run`.
   */
  async release(): Promise<void> {
    if (this.releasing) return this.releasing;
    this.released = true;
    // Decide now: the run loop, woken below, may step down before we get to write.
    const wasLeading = this.leading;
    this.wakeUp?.();
    this.releasing = (async () => {
      // Let a renewal in flight land first; releasing over it would fail on a stale resourceVersion.
      await this.attempt;
      // Still within the deadline (the timer has not stepped us down), so the lease is ours to give.
      const lease = this.lastLease;
      if (wasLeading && lease && lease.spec?.holderIdentity === this.opts.identity) {
        const spec: LeaseSpec = {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: formatMicroTime(new Date(this.now())),
        };
        delete spec.acquireTime;
        try {
          await this.kube.replace<Lease>({ ...lease, spec }, { timeoutMs: this.opts.renewDeadlineMs });
          this.logger.info('released the lease');
        } catch (error) {
          this.logger.warn('releasing the lease failed; successors will wait for expiry', { error });
        }
      }
      this.clearDeadline();
      await this.stopLeading();
      await this.steppingDown;
    })();
    return this.releasing;
  }

  private async becomeLeader(): Promise<void> {
    this.leading = true;
    this.leaderAbort = new AbortController();
    this.armDeadline();
    this.logger.info('became leader');
    try {
      await this.opts.onStartedLeading(this.leaderAbort.signal);
    } catch (error) {
      this.logger.error('onStartedLeading threw', { error });
    }
  }

  private async stopLeading(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.leaderAbort?.abort();
    this.leaderAbort = undefined;
    this.logger.info('stopped leading');
    try {
      await this.opts.onStoppedLeading();
    } catch (error) {
      this.logger.error('onStoppedLeading threw', { error });
    }
  }

  /** (Re)arms the step-down timer for renewDeadline after the last held attempt was sent. */
  private armDeadline(): void {
    this.clearDeadline();
    const leftMs = this.opts.renewDeadlineMs - (this.monoNow() - this.lastHeldSentMono);
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = undefined;
        if (!this.leading) return;
        this.logger.error('could not renew the lease within the deadline, stepping down', {
          renewDeadlineMs: this.opts.renewDeadlineMs,
        });
        this.steppingDown = this.stopLeading().finally(() => {
          this.steppingDown = undefined;
        });
        this.wakeUp?.();
      },
      Math.max(0, leftMs),
    );
  }

  private clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  private setLeader(identity: string): void {
    if (identity === this.knownLeader) return;
    this.knownLeader = identity;
    this.logger.info('leader changed', { leader: identity });
    try {
      this.opts.onNewLeader?.(identity);
    } catch (error) {
      this.logger.error('onNewLeader threw', { error });
    }
  }

  /** `budgetMs` bounds the whole attempt (read and write); default renewDeadlineMs. */
  private tryAcquireOrRenew(budgetMs: number = this.opts.renewDeadlineMs): Promise<boolean> {
    const sentMono = this.monoNow();
    const p = this.acquireOrRenewOnce(sentMono + Math.max(1, budgetMs)).then((held) => {
      if (held) this.lastHeldSentMono = sentMono;
      return held;
    });
    const tracked = p.finally(() => {
      if (this.attempt === tracked) this.attempt = undefined;
    });
    this.attempt = tracked;
    return tracked;
  }

  /** One attempt that gives up at `deadlineMono`; true when we hold the lease afterwards. */
  private async acquireOrRenewOnce(deadlineMono: number): Promise<boolean> {
    const nowStr = formatMicroTime(new Date(this.now()));
    const timeout = (): { timeoutMs: number } => ({
      timeoutMs: Math.max(1, Math.round(deadlineMono - this.monoNow())),
    });
    const durationSeconds = Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000));
    let current: Lease;
    try {
      current = await this.kube.get<Lease>(leaseRef(this.opts.namespace, this.opts.name), timeout());
    } catch (error) {
      if (!isNotFound(error)) {
        this.logger.warn('reading the lease failed', { error });
        return false;
      }
      try {
        const created = await this.kube.create<Lease>(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.opts.name, namespace: this.opts.namespace, ...this.owners() },
            spec: {
              holderIdentity: this.opts.identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: nowStr,
              renewTime: nowStr,
              leaseTransitions: 0,
            },
          } as Lease,
          timeout(),
        );
        this.remember(created);
        return true;
      } catch (e) {
        if (!isAlreadyExists(e)) this.logger.warn('creating the lease failed', { error: e });
        return false;
      }
    }
    this.remember(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const ours = holder === this.opts.identity;
    if (!ours && holder !== '' && this.observed) {
      const validMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (this.observed.atMono + validMs > this.monoNow()) return false; // held by a live leader
    }
    const next: Lease = {
      ...current,
      // A Lease made before it had an owner (or by a Deployment since recreated) gets ours.
      metadata: { ...current.metadata, ...this.owners() },
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: nowStr,
        acquireTime: ours ? spec.acquireTime : nowStr,
        leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await this.kube.replace<Lease>(next, timeout());
      this.remember(updated);
      return true;
    } catch (error) {
      if (!isConflict(error)) this.logger.warn('updating the lease failed', { error });
      return false;
    }
  }

  /** `{ ownerReferences }` when configured, else nothing (keeps what the Lease has). */
  private owners(): { ownerReferences?: OwnerReference[] } {
    const refs = this.opts.ownerReferences;
    return refs && refs.length > 0 ? { ownerReferences: [...refs] } : {};
  }

  private remember(lease: Lease): void {
    this.lastLease = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = lease.spec?.renewTime ?? '';
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, atMono: this.monoNow() };
    }
    this.setLeader(holder);
  }

  private jittered(ms: number): number {
    return ms * (1 + Math.random() * 0.2);
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.released) return resolve();
      const done = (): void => {
        clearTimeout(t);
        this.wakeUp = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
