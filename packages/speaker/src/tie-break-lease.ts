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
 * The tie-break Lease, the thin I/O around `tie-break.ts`: while `want(side)` names the side of a
 * tie gossip reports (the members on this side, e.g. `node-1,node-2`: every member of one half
 * names the same one, so the whole half holds it together) it tries to acquire and then renew the
 * Lease as that side; on `want(undefined)` (or another side) it releases it. Outside a tie it
 * makes no request at all. `answer` is synchronous and pure over the last results.
 */
export class TieBreakLease {
  private readonly t: TieBreakTiming;
  private readonly log: Logger;
  private readonly now: () => number;
  private state: TieBreakState = {};
  /** The Lease as last read or written (its resourceVersion for the next replace). */
  private lease: Lease | undefined;
  /** The side of the current tie (the holder identity), or undefined outside a tie. */
  private side: string | undefined;
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

  /** The membership's tie-breaker: for the side of the current tie only. */
  readonly answer = (): TieBreak =>
    this.side === undefined ? 'unknown' : tieBreakAnswer(this.state, this.side, this.now(), this.t);

  /** The side of the tie gossip reports now (undefined: no tie). Cheap when nothing changes. */
  want(side: string | undefined): void {
    if (this.stopped || side === this.side) return;
    const before = this.answer();
    this.log.info(side ? 'gossip reports a tie: asking the tie-break Lease' : 'the tie is over', {
      side: side ?? '(none)',
      previousSide: this.side ?? '(none)',
    });
    this.side = side;
    // A hold as another side grants nothing now: tell the membership at once.
    if (this.answer() !== before) this.changed();
    this.wake?.();
    if (side !== undefined) this.loop ??= this.run().finally(() => (this.loop = undefined));
  }

  /** Releases the Lease if held and makes no further request. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.side = undefined;
    this.wake?.();
    await this.loop;
    if (this.expiry) clearTimeout(this.expiry);
  }

  private async run(): Promise<void> {
    for (let side = this.side; side !== undefined && !this.stopped; side = this.side) {
      await this.attempt(side);
      this.changed();
      if (this.side === side) {
        const holding = this.state.heldSentAt !== undefined;
        await this.pause(holding ? this.t.renewIntervalMs : this.t.retryIntervalMs);
      }
      // The tie ended or changed sides: hand the Lease back before anything else.
      if (this.side !== side) await this.release(side);
    }
  }

  /** One read and, when the plan says so, one write, as `me` (the side of the tie). */
  private async attempt(me: string): Promise<void> {
    const sentAt = this.now();
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
        heldAs: me,
        observed: observe(this.state.observed, leaseRecord(written), this.now())!,
      };
      if (!wasHolding)
        this.log.info('acquired the tie-break Lease: this side of the tie may announce', {
          side: me,
          previousHolder: record?.holder ?? '(no Lease)',
        });
    } catch (error) {
      if (isConflict(error) || isAlreadyExists(error))
        this.log.info('another speaker wrote the tie-break Lease first', { answer: this.answer() });
      else this.log.warn('writing the tie-break Lease failed', { error, answer: this.answer() });
    }
  }

  /** Hands the Lease back (empty holder) so the other side need not wait for it to lapse. */
  private async release(side: string): Promise<void> {
    const held = this.state.heldSentAt !== undefined && this.state.heldAs === side;
    // Stop believing first: from here on we answer as if we never held it.
    this.state = this.state.observed ? { observed: this.state.observed } : {};
    this.changed();
    const lease = this.lease;
    if (!held || !lease || lease.spec?.holderIdentity !== side) return;
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
      this.log.info('released the tie-break Lease: the tie is over', { side });
    } catch (error) {
      this.log.warn('releasing the tie-break Lease failed; the other side waits for it to lapse', { error });
    }
  }

  /** Tells the membership when the answer changed, and arms a timer for when it will. */
  private changed(): void {
    const now = this.now();
    const answer = this.answer();
    if (answer !== this.lastAnswer) {
      if (this.lastAnswer === 'granted' && this.side !== undefined && this.state.heldAs === this.side)
        this.log.warn('lost the tie-break Lease: not renewed in time, this side stops announcing', {
          answer,
        });
      this.lastAnswer = answer;
      this.o.onChange();
    }
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
    const at = this.side === undefined ? undefined : answerChangesAt(this.state, this.side, now, this.t);
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
      if (this.side === undefined || this.stopped) return resolve();
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
