import type { Timing } from './config.js';
import type { StepResult } from './events.js';
import type { DeathReason } from './messages.js';
import type { Counters } from './metrics.js';
import type { MemberTable } from './table.js';

/** What this member knows about one ring neighbour. */
interface Neighbour {
  /** Next regular ping. */
  nextAt: number;
  /** Latest ping sent to it (regular or retry). */
  pingedAt: number;
  /** Latest evidence it runs: a packet from it, or a helper's indirect-ack. Reset when we stall. */
  evidenceAt: number;
  /** Latest packet received from it directly. */
  heardAt: number;
  /** When we sent the latest ping it answered. */
  answeredAt: number;
  /** Latest ping-req about it. */
  indirectAt: number;
  /** The ping-req's sequence, to match the helpers' indirect-acks. */
  indirectSequence?: number;
}

interface Relay {
  readonly requester: string;
  readonly requesterSequence: number;
  readonly target: string;
  readonly deadline: number;
}

/** What the detector needs from the member it runs in. */
export interface DetectorHost {
  readonly name: string;
  readonly table: MemberTable;
  readonly timing: Timing;
  readonly counters: Counters;
  readonly random: () => number;
  /** Ring neighbours this member probes (and that probe it). */
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

/** Pure: what a watcher does about a neighbour that has been silent for `silence` ms. */
export type SilenceAction = 'none' | 'retry' | 'indirect' | 'suspect' | 'dead';

/**
 * The stages a silence goes through, each implying the ones before (see Timing). `confirmed`:
 * enough watchers suspect the neighbour at its current incarnation.
 */
export function silenceStage(t: Timing, silence: number, confirmed: boolean): SilenceAction {
  if (silence >= t.deadAfterMs && (confirmed || silence >= t.suspicionMaxMs)) return 'dead';
  if (silence >= t.suspectAfterMs) return 'suspect';
  if (silence >= t.indirectAfterMs) return 'indirect';
  if (silence >= t.retryAfterMs) return 'retry';
  return 'none';
}

/**
 * Targeted failure detection by silence. Each member pings its k ring neighbours every
 * probeIntervalMs, half an interval away from their pings to it, and every packet either way is
 * evidence for both ends. A neighbour silent for retryAfterMs is pinged again every
 * retryIntervalMs; after indirectAfterMs its other watchers are asked to ping it for us (one bad
 * link is not a death); after suspectAfterMs we suspect it (told to it, so it can refute, and to
 * its watchers, who count it as a confirmation); after deadAfterMs we declare it dead once
 * `confirmations` watchers suspect it, or after suspicionMaxMs on our own evidence.
 */
export class Detector {
  private readonly neighbours = new Map<string, Neighbour>();
  /** Pings we sent to neighbours: sequence -> target and time, until answered or old. */
  private readonly pings = new Map<number, { target: string; at: number }>();
  private readonly relays = new Map<number, Relay>();
  /** Members we suspect ourselves, at which incarnation. */
  private readonly suspicions = new Map<string, number>();
  /** Who independently suspects each member, at which incarnation. */
  private readonly suspectors = new Map<string, { incarnation: number; by: Set<string> }>();
  /** When we last found out that we had stalled: packets read right after prove nothing about now. */
  private stalledAt = -Infinity;

  constructor(private readonly host: DetectorHost) {}

  /** This process stalled (GC, SIGSTOP): the silences it measured meanwhile say nothing about the others. */
  stalled(now: number): void {
    this.stalledAt = now;
    for (const n of this.neighbours.values()) {
      n.evidenceAt = Math.max(n.evidenceAt, now);
      n.nextAt = now; // ping at once: until fresh answers come back, we are fenced
      n.indirectAt = -Infinity;
      n.indirectSequence = undefined;
    }
    this.relays.clear();
  }

  tick(step: StepResult, now: number): void {
    const h = this.host;
    const t = h.timing;
    this.syncNeighbours(now);
    let judge: boolean | undefined;
    const mayJudge = () => (judge ??= h.mayJudge(now));
    for (const [name, n] of this.neighbours) {
      const record = h.table.get(name);
      const silence = now - n.evidenceAt;
      const stage = record ? silenceStage(t, silence, this.confirmed(name, record.incarnation)) : 'none';
      if (now >= n.nextAt) {
        this.pingNeighbour(step, name, n, now);
        n.nextAt = Math.max(n.nextAt + t.probeIntervalMs, now);
      } else if (stage !== 'none' && now - n.pingedAt >= t.retryIntervalMs) {
        this.pingNeighbour(step, name, n, now);
      }
      if ((stage === 'indirect' || stage === 'suspect') && now - n.indirectAt >= t.indirectIntervalMs) {
        const helpers = this.helpers(name);
        n.indirectAt = now;
        if (helpers.length > 0) n.indirectSequence = h.pingReq(step, helpers, name);
      }
      if (!record || record.status === 'dead' || record.status === 'left') continue;
      if (
        (stage === 'suspect' || stage === 'dead') &&
        this.suspicions.get(name) !== record.incarnation &&
        mayJudge()
      ) {
        this.suspicions.set(name, record.incarnation);
        this.onSuspicion(name, record.incarnation, h.name);
        h.counters.suspicionsRaised++;
        h.suspect(step, name, record.incarnation, now);
      } else if (stage === 'dead' && this.suspicions.get(name) === record.incarnation && mayJudge()) {
        const confirmed = this.confirmed(name, record.incarnation);
        this.suspicions.delete(name);
        h.declareDead(step, name, record.incarnation, confirmed ? 'confirmed' : 'suspicion-timeout', now);
      }
    }
    for (const [member, incarnation] of this.suspicions) {
      const record = h.table.get(member);
      if (record?.status !== 'suspect' || record.incarnation !== incarnation) this.suspicions.delete(member);
    }
    for (const [sequence, r] of this.relays) if (now >= r.deadline) this.relays.delete(sequence);
    for (const [sequence, p] of this.pings) if (now - p.at > t.suspicionMaxMs) this.pings.delete(sequence);
  }

  /** The earliest time tick() has something to do (past stages that wait for a verdict excluded). */
  nextDue(now: number): number {
    const t = this.host.timing;
    const stages = [t.retryAfterMs, t.indirectAfterMs, t.suspectAfterMs, t.deadAfterMs, t.suspicionMaxMs];
    let due = Infinity;
    const upcoming = (time: number) => {
      if (time > now) due = Math.min(due, time);
    };
    for (const n of this.neighbours.values()) {
      due = Math.min(due, n.nextAt);
      const silence = now - n.evidenceAt;
      if (silence >= t.retryAfterMs) due = Math.min(due, Math.max(now, n.pingedAt + t.retryIntervalMs));
      if (silence >= t.indirectAfterMs) upcoming(n.indirectAt + t.indirectIntervalMs);
      for (const stage of stages) upcoming(n.evidenceAt + stage);
    }
    return due;
  }

  /**
   * The latest contact with `member` that counts for quorum: a packet from it, but after a stall
   * only once it has answered a ping sent since (the backlog read on waking proves nothing).
   */
  reachedAt(member: string): number {
    const n = this.neighbours.get(member);
    if (!n) return -Infinity;
    return n.answeredAt >= this.stalledAt ? Math.max(n.heardAt, n.answeredAt) : n.answeredAt;
  }

  /** An authenticated packet from `member` proves it is running: its silence and our suspicion end. */
  heardFrom(member: string, now: number): void {
    this.suspicions.delete(member);
    const n = this.neighbours.get(member);
    if (!n) return;
    n.heardAt = now;
    n.evidenceAt = Math.max(n.evidenceAt, now);
  }

  /**
   * A neighbour pinged us. The higher-named member of a pair follows: its next ping goes half an
   * interval after the lower-named one's, so the pair alternates and either end hears the other
   * every probeIntervalMs / 2. (If both followed, pinging in step would be a fixed point too.)
   */
  onPing(from: string, now: number): void {
    const n = this.neighbours.get(from);
    if (n && this.host.name > from) n.nextAt = now + this.host.timing.probeIntervalMs / 2;
  }

  onAck(step: StepResult, from: string, probe: number, now: number): void {
    const sent = this.pings.get(probe);
    const n = this.neighbours.get(from);
    if (sent && sent.target === from) {
      this.pings.delete(probe);
      this.host.counters.observeRtt(now - sent.at);
      if (n) n.answeredAt = Math.max(n.answeredAt, sent.at);
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
      deadline: now + this.host.timing.indirectIntervalMs,
    });
  }

  /** A helper reached `target` for us: evidence it runs, though not a contact of ours for quorum. */
  onIndirectAck(target: string, probe: number, now: number): void {
    const n = this.neighbours.get(target);
    if (n && n.indirectSequence === probe) {
      n.evidenceAt = Math.max(n.evidenceAt, now);
      this.suspicions.delete(target);
    }
  }

  /** `by` heard nothing from `member` at `incarnation` for suspectAfterMs. */
  onSuspicion(member: string, incarnation: number, by: string): void {
    let s = this.suspectors.get(member);
    if (!s || s.incarnation !== incarnation) {
      s = { incarnation, by: new Set() };
      this.suspectors.set(member, s);
    }
    s.by.add(by);
  }

  /** The member is alive again at a higher incarnation, dead or gone: drop what we held about it. */
  settled(member: string): void {
    this.suspicions.delete(member);
    this.suspectors.delete(member);
  }

  private pingNeighbour(step: StepResult, name: string, n: Neighbour, now: number): void {
    const sequence = this.host.ping(step, name);
    this.pings.set(sequence, { target: name, at: now });
    n.pingedAt = now;
  }

  private confirmed(member: string, incarnation: number): boolean {
    const s = this.suspectors.get(member);
    const have = s && s.incarnation === incarnation ? s.by.size : 0;
    const watchers = this.host.watchersOf(member).length;
    return have >= Math.max(1, Math.min(this.host.timing.confirmations, watchers));
  }

  private syncNeighbours(now: number): void {
    const targets = this.host.targets();
    for (const name of this.neighbours.keys()) if (!targets.includes(name)) this.neighbours.delete(name);
    for (const name of targets) {
      if (this.neighbours.has(name)) continue;
      this.neighbours.set(name, {
        nextAt: now + this.host.random() * this.host.timing.probeIntervalMs,
        pingedAt: -Infinity,
        evidenceAt: now,
        heardAt: -Infinity,
        answeredAt: -Infinity,
        indirectAt: -Infinity,
      });
    }
  }

  /** Up to `indirectProbes` helpers believed alive: the target's other watchers first, then random members. */
  private helpers(target: string): string[] {
    const h = this.host;
    const want = h.timing.indirectProbes;
    if (want === 0) return [];
    const usable = (n: string) => n !== h.name && n !== target && h.table.get(n)?.status === 'alive';
    const out = shuffle(h.watchersOf(target).filter(usable), h.random).slice(0, want);
    const ring = h.table.ring;
    if (ring.size <= 4 * want + 2) {
      const rest = shuffle(
        ring.names.filter((n) => usable(n) && !out.includes(n)),
        h.random,
      );
      return [...out, ...rest].slice(0, want);
    }
    for (let tries = 0; tries < 4 * want && out.length < want; tries++) {
      const n = ring.names[Math.floor(h.random() * ring.size)] as string;
      if (usable(n) && !out.includes(n)) out.push(n);
    }
    return out;
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
