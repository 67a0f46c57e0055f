import { performance } from 'node:perf_hooks';
import {
  formatMicroTime,
  isAlreadyExists,
  isConflict,
  isNotFound,
  leaseRef,
  type KubeReader,
  type KubeWriter,
  type Lease,
  type Logger,
  type OwnerReference,
} from '@metallb-ts/k8s-runtime';
import type { TieBreak } from '@metallb-ts/membership';
import {
  answerChangesAt,
  DEFAULT_TIE_BREAK_TIMING,
  grantedUntil,
  observe,
  planAttempt,
  tieBreakAnswer,
  tieBreakTimingProblem,
  type LeaseRecord,
  type TieBreakState,
  type TieBreakTiming,
} from './tie-break.js';

export type TieBreakApi = Pick<KubeReader, 'get'> & Pick<KubeWriter, 'create' | 'replace'>;

export interface TieBreakLeaseOptions {
  readonly namespace: string;
  /** The Lease (LEASES.speakerTieBreak). */
  readonly name: string;
  /** This speaker's node name: the holder identity. */
  readonly identity: string;
  readonly logger: Logger;
  /** Called whenever `answer()` may have changed, so the membership verdict is recomputed. */
  readonly onChange: () => void;
  /** Written on the Lease when this speaker creates it (the speaker DaemonSet), if known. */
  readonly owner?: () => OwnerReference | undefined;
  readonly timing?: Partial<TieBreakTiming>;
  /** Monotonic ms (default performance.now). */
  readonly now?: () => number;
  /** Wall clock for the Lease's timestamps (default Date.now); never used for decisions. */
  readonly wallNow?: () => number;
}

/**
 * The tie-break Lease, the thin I/O around `tie-break.ts`: while `want(true)` (gossip reports a
 * tie) it tries to acquire and then renew the Lease; on `want(false)` it releases it. Outside a
 * tie it makes no request at all. `answer` is synchronous and pure over the last results.
 */
export class TieBreakLease {
  private readonly t: TieBreakTiming;
  private readonly log: Logger;
  private readonly now: () => number;
  private state: TieBreakState = {};
  /** The Lease as last read or written (its resourceVersion for the next replace). */
  private lease: Lease | undefined;
  private wanted = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private lastAnswer: TieBreak = 'unknown';

  constructor(
    private readonly kube: TieBreakApi,
    private readonly o: TieBreakLeaseOptions,
  ) {
    this.t = { ...DEFAULT_TIE_BREAK_TIMING, ...o.timing };
    const problem = tieBreakTimingProblem(this.t);
    if (problem) throw new RangeError(problem);
    this.now = o.now ?? (() => performance.now());
    this.log = o.logger.child({ lease: `${o.namespace}/${o.name}` });
  }

  /** The membership's tie-breaker. */
  readonly answer = (): TieBreak => tieBreakAnswer(this.state, this.o.identity, this.now(), this.t);

  /** Whether gossip reports a tie now: starts acquiring, or releases. Cheap when nothing changes. */
  want(tied: boolean): void {
    if (this.stopped || tied === this.wanted) return;
    this.wanted = tied;
    this.log.info(tied ? 'gossip reports a tie: asking the tie-break Lease' : 'the tie is over', {
      answer: this.answer(),
    });
    if (tied) this.loop ??= this.run().finally(() => (this.loop = undefined));
    else this.wake?.();
  }

  /** Releases the Lease if held and makes no further request. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wanted = false;
    this.wake?.();
    await this.loop;
    if (this.expiry) clearTimeout(this.expiry);
  }

  private async run(): Promise<void> {
    while (this.wanted && !this.stopped) {
      await this.attempt();
      this.changed();
      const holding = this.state.heldSentAt !== undefined;
      await this.pause(holding ? this.t.renewIntervalMs : this.t.retryIntervalMs);
    }
    await this.release();
    // A tie that came back while releasing: start over.
    if (this.wanted && !this.stopped) return this.run();
  }

  /** One read and, when the plan says so, one write. */
  private async attempt(): Promise<void> {
    const sentAt = this.now();
    const me = this.o.identity;
    // Never wait longer than the current hold lasts: a hanging request must not outlive it.
    const budget = (): { timeoutMs: number } => ({
      timeoutMs: Math.max(
        1,
        Math.round(
          Math.min(
            this.t.renewIntervalMs,
            (this.state.heldSentAt !== undefined ? grantedUntil(this.state.heldSentAt, this.t) : Infinity) -
              this.now(),
          ),
        ),
      ),
    });
    let current: Lease | undefined;
    try {
      current = await this.kube.get<Lease>(leaseRef(this.o.namespace, this.o.name), budget());
    } catch (error) {
      if (!isNotFound(error)) {
        this.log.warn('reading the tie-break Lease failed', { error, answer: this.answer() });
        return;
      }
    }
    const record = current ? leaseRecord(current) : undefined;
    const observed = observe(this.state.observed, record, this.now());
    this.lease = current;
    if (record && record.holder !== me) this.state = { observed };
    else this.state = { ...this.state, ...(observed ? { observed } : {}) };
    const plan = planAttempt(me, record, observed, this.now());
    if (plan.kind === 'wait') return;
    const durationSeconds = this.t.leaseDurationMs / 1000;
    const stamp = formatMicroTime(new Date((this.o.wallNow ?? Date.now)()));
    try {
      const written =
        plan.kind === 'create'
          ? await this.kube.create<Lease>(
              {
                apiVersion: 'coordination.k8s.io/v1',
                kind: 'Lease',
                metadata: { name: this.o.name, namespace: this.o.namespace, ...this.owners() },
                spec: {
                  holderIdentity: me,
                  leaseDurationSeconds: durationSeconds,
                  acquireTime: stamp,
                  renewTime: stamp,
                  leaseTransitions: 0,
                },
              } as Lease,
              budget(),
            )
          : await this.kube.replace<Lease>(
              {
                ...current!,
                spec: {
                  ...current!.spec,
                  holderIdentity: me,
                  leaseDurationSeconds: durationSeconds,
                  renewTime: stamp,
                  acquireTime: plan.renewal ? current!.spec?.acquireTime : stamp,
                  leaseTransitions: (current!.spec?.leaseTransitions ?? 0) + (plan.renewal ? 0 : 1),
                },
              },
              budget(),
            );
      const wasHolding = this.state.heldSentAt !== undefined;
      this.lease = written;
      this.state = {
        heldSentAt: sentAt,
        observed: observe(this.state.observed, leaseRecord(written), this.now())!,
      };
      if (!wasHolding)
        this.log.info('acquired the tie-break Lease: this side of the tie may announce', {
          previousHolder: record?.holder ?? '(no Lease)',
        });
    } catch (error) {
      if (isConflict(error) || isAlreadyExists(error))
        this.log.info('another speaker wrote the tie-break Lease first', { answer: this.answer() });
      else this.log.warn('writing the tie-break Lease failed', { error, answer: this.answer() });
    }
  }

  /** Hands the Lease back (empty holder) so the other side need not wait for it to lapse. */
  private async release(): Promise<void> {
    const held = this.state.heldSentAt !== undefined;
    // Stop believing first: from here on we answer as if we never held it.
    this.state = this.state.observed ? { observed: this.state.observed } : {};
    this.changed();
    const lease = this.lease;
    if (!held || !lease || lease.spec?.holderIdentity !== this.o.identity) return;
    try {
      this.lease = await this.kube.replace<Lease>(
        {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: formatMicroTime(new Date((this.o.wallNow ?? Date.now)())),
          },
        },
        { timeoutMs: this.t.renewIntervalMs },
      );
      this.log.info('released the tie-break Lease: the tie is over');
    } catch (error) {
      this.log.warn('releasing the tie-break Lease failed; the other side waits for it to lapse', { error });
    }
  }

  /** Tells the membership when the answer changed, and arms a timer for when it will. */
  private changed(): void {
    const now = this.now();
    const answer = this.answer();
    if (answer !== this.lastAnswer) {
      if (this.lastAnswer === 'granted' && this.wanted)
        this.log.warn('lost the tie-break Lease: not renewed in time, this side stops announcing', {
          answer,
        });
      this.lastAnswer = answer;
      this.o.onChange();
    }
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
    const at = answerChangesAt(this.state, this.o.identity, now, this.t);
    if (at === undefined || this.stopped) return;
    this.expiry = setTimeout(() => this.changed(), Math.max(0, at - now) + 1);
    this.expiry.unref();
  }

  private owners(): { ownerReferences?: OwnerReference[] } {
    const owner = this.o.owner?.();
    return owner ? { ownerReferences: [owner] } : {};
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.wanted || this.stopped) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function leaseRecord(l: Lease): LeaseRecord {
  return {
    holder: l.spec?.holderIdentity ?? '',
    renewTime: l.spec?.renewTime ?? '',
    durationMs: (l.spec?.leaseDurationSeconds ?? 0) * 1000,
  };
}
