import type { Timing } from './config.js';
import type { StepResult } from './events.js';
import type { DeathReason } from './messages.js';
import type { Counters } from './metrics.js';
import type { MemberTable } from './table.js';

interface Pending {
  readonly stage: 'direct' | 'indirect';
  readonly sequence: number;
  readonly sentAt: number;
  readonly deadline: number;
}

interface ProbeState {
  nextAt: number;
  pending?: Pending;
}

interface Relay {
  readonly requester: string;
  readonly requesterSequence: number;
  readonly target: string;
  readonly deadline: number;
}

interface Suspicion {
  readonly incarnation: number;
  since: number;
}

/** What the detector needs from the member it runs in. */
export interface DetectorHost {
  readonly name: string;
  readonly table: MemberTable;
  readonly timing: Timing;
  readonly counters: Counters;
  readonly random: () => number;
  /** Ring successors this member probes. */
  targets(): readonly string[];
  watchersOf(member: string): readonly string[];
  /** Whether this member may suspect or declare others (it is a member and not cut off). */
  mayJudge(now: number): boolean;
  ping(step: StepResult, target: string): number;
  pingReq(step: StepResult, helpers: readonly string[], target: string): number;
  indirectAck(step: StepResult, requester: string, target: string, probe: number): void;
  suspect(step: StepResult, member: string, incarnation: number, now: number): void;
  declareDead(step: StepResult, member: string, incarnation: number, reason: DeathReason, now: number): void;
}

/**
 * Targeted failure detection. Each member pings its k ring successors every probeIntervalMs
 * (random phase); a missing ack after probeTimeoutMs makes it ask `indirectProbes` random members
 * to ping the target for it; no indirect-ack after indirectTimeoutMs makes it suspect the target
 * (told to the target, so it can refute, and to the target's other watchers, who probe at once).
 * It declares the target dead after suspicionMinMs once `confirmations` watchers suspect it, or
 * after suspicionMaxMs on its own evidence; any packet from the target calls its suspicion off.
 */
export class Detector {
  private readonly probes = new Map<string, ProbeState>();
  private readonly relays = new Map<number, Relay>();
  private readonly suspicions = new Map<string, Suspicion>();
  /** Per target: when we sent the latest probe it answered (directly or through a helper). */
  private readonly answered = new Map<string, number>();
  /** Who independently suspects each member, at which incarnation. */
  private readonly suspectors = new Map<string, { incarnation: number; by: Set<string> }>();

  constructor(private readonly host: DetectorHost) {}

  /** This process stalled (GC, SIGSTOP): timeouts that ran out meanwhile say nothing about the targets. */
  stalled(now: number): void {
    for (const p of this.probes.values()) {
      p.pending = undefined;
      p.nextAt = now; // probe at once: until fresh answers come back, we are fenced
    }
    for (const s of this.suspicions.values()) s.since = now;
    this.relays.clear();
  }

  tick(step: StepResult, now: number): void {
    const h = this.host;
    const t = h.timing;
    this.syncTargets(now);
    for (const [target, p] of this.probes) {
      if (p.pending && now >= p.pending.deadline) {
        const helpers = p.pending.stage === 'direct' ? this.helpers(target) : [];
        if (helpers.length > 0) {
          const sequence = h.pingReq(step, helpers, target);
          p.pending = {
            stage: 'indirect',
            sequence,
            sentAt: p.pending.sentAt,
            deadline: now + t.indirectTimeoutMs,
          };
        } else {
          p.pending = undefined;
          this.failed(step, target, now);
        }
      }
      if (!p.pending && now >= p.nextAt) {
        const sequence = h.ping(step, target);
        p.pending = { stage: 'direct', sequence, sentAt: now, deadline: now + t.probeTimeoutMs };
        p.nextAt = Math.max(p.nextAt + t.probeIntervalMs, now);
      }
    }
    for (const [member, s] of this.suspicions) {
      const record = h.table.get(member);
      if (record?.status !== 'suspect' || record.incarnation !== s.incarnation) {
        this.suspicions.delete(member);
        continue;
      }
      const confirmed = this.confirmed(member, s.incarnation);
      if (now - s.since >= (confirmed ? t.suspicionMinMs : t.suspicionMaxMs) && h.mayJudge(now)) {
        this.suspicions.delete(member);
        h.declareDead(step, member, s.incarnation, confirmed ? 'confirmed' : 'suspicion-timeout', now);
      }
    }
    for (const [sequence, r] of this.relays) if (now >= r.deadline) this.relays.delete(sequence);
  }

  /** The earliest time tick() has something to do. */
  nextDue(): number {
    const t = this.host.timing;
    let due = Infinity;
    for (const p of this.probes.values()) due = Math.min(due, p.pending ? p.pending.deadline : p.nextAt);
    for (const [member, s] of this.suspicions) {
      const wait = this.confirmed(member, s.incarnation) ? t.suspicionMinMs : t.suspicionMaxMs;
      due = Math.min(due, s.since + wait);
    }
    return due;
  }

  /** When we sent the latest probe `member` answered; -Infinity if never. */
  answeredAt(member: string): number {
    return this.answered.get(member) ?? -Infinity;
  }

  private answer(member: string, sentAt: number): void {
    if (sentAt > this.answeredAt(member)) this.answered.set(member, sentAt);
  }

  /** Any authenticated packet from `member` proves it is running: our own suspicion ends. */
  heardFrom(member: string): void {
    this.suspicions.delete(member);
  }

  onAck(step: StepResult, from: string, probe: number, now: number): void {
    const p = this.probes.get(from);
    if (p?.pending && p.pending.stage === 'direct' && p.pending.sequence === probe) {
      this.host.counters.observeRtt(now - p.pending.sentAt);
      this.answer(from, p.pending.sentAt);
      p.pending = undefined;
    } else if (p?.pending?.stage === 'indirect') {
      this.answer(from, p.pending.sentAt); // a late direct ack during the indirect stage is as good
      p.pending = undefined;
    }
    const relay = this.relays.get(probe);
    if (relay && relay.target === from) {
      this.relays.delete(probe);
      this.host.indirectAck(step, relay.requester, from, relay.requesterSequence);
    }
  }

  onPingReq(step: StepResult, from: string, requesterSequence: number, target: string, now: number): void {
    const record = this.host.table.get(target);
    if (target === this.host.name || !record || record.status === 'dead' || record.status === 'left') return;
    const sequence = this.host.ping(step, target);
    this.relays.set(sequence, {
      requester: from,
      requesterSequence,
      target,
      deadline: now + this.host.timing.indirectTimeoutMs,
    });
  }

  onIndirectAck(target: string, probe: number): void {
    const p = this.probes.get(target);
    if (p?.pending?.stage === 'indirect' && p.pending.sequence === probe) {
      this.answer(target, p.pending.sentAt);
      p.pending = undefined;
      this.suspicions.delete(target);
    }
  }

  /** `by` says its own probes of `member` failed at `incarnation`; a watcher of ours probes now. */
  onSuspicion(member: string, incarnation: number, by: string, now: number): void {
    let s = this.suspectors.get(member);
    if (!s || s.incarnation !== incarnation) {
      s = { incarnation, by: new Set() };
      this.suspectors.set(member, s);
    }
    s.by.add(by);
    const p = this.probes.get(member);
    if (p && !p.pending && by !== this.host.name) p.nextAt = now;
  }

  /** The member is alive again at a higher incarnation, dead or gone: drop what we held about it. */
  settled(member: string): void {
    this.suspicions.delete(member);
    this.suspectors.delete(member);
  }

  private failed(step: StepResult, target: string, now: number): void {
    const h = this.host;
    if (!h.mayJudge(now)) return;
    const record = h.table.get(target);
    if (!record || record.status === 'dead' || record.status === 'left') return;
    this.onSuspicion(target, record.incarnation, h.name, now);
    if (this.suspicions.has(target)) return; // still failing: the timer already runs
    this.suspicions.set(target, { incarnation: record.incarnation, since: now });
    h.counters.suspicionsRaised++;
    h.suspect(step, target, record.incarnation, now);
  }

  private confirmed(member: string, incarnation: number): boolean {
    const s = this.suspectors.get(member);
    const have = s && s.incarnation === incarnation ? s.by.size : 0;
    const watchers = this.host.watchersOf(member).length;
    return have >= Math.max(1, Math.min(this.host.timing.confirmations, watchers));
  }

  private syncTargets(now: number): void {
    const targets = this.host.targets();
    for (const name of this.probes.keys()) {
      if (!targets.includes(name)) {
        this.probes.delete(name);
        this.answered.delete(name);
      }
    }
    for (const name of targets) {
      if (!this.probes.has(name))
        this.probes.set(name, { nextAt: now + this.host.random() * this.host.timing.probeIntervalMs });
    }
  }

  /** Up to `indirectProbes` random members believed alive, other than us and the target. */
  private helpers(target: string): string[] {
    const h = this.host;
    const ring = h.table.ring;
    const want = h.timing.indirectProbes;
    const out = new Set<string>();
    const usable = (n: string) => n !== h.name && n !== target && h.table.get(n)?.status === 'alive';
    if (ring.size <= 4 * want + 2) {
      const all = ring.names.filter(usable);
      for (let i = 0; i < Math.min(want, all.length); i++) {
        const j = i + Math.floor(h.random() * (all.length - i));
        [all[i], all[j]] = [all[j] as string, all[i] as string];
      }
      return all.slice(0, want);
    }
    for (let tries = 0; tries < 4 * want && out.size < want; tries++) {
      const n = ring.names[Math.floor(h.random() * ring.size)] as string;
      if (usable(n)) out.add(n);
    }
    return [...out];
  }
}
