import { decodePacket } from './codec.js';
import { configProblem, DEFAULT_TIMING, type MembershipConfig, type Timing } from './config.js';
import { Detector } from './detector.js';
import { emptyStep, type StepResult } from './events.js';
import type { MembershipKeys } from './keys.js';
import type { DeathReason, MemberUpdate, Message, Packet } from './messages.js';
import { Counters, type MembershipMetrics } from './metrics.js';
import { Outbox } from './outbox.js';
import {
  announceVerdict,
  type AnnounceVerdict,
  type MajorityTest,
  type Phase,
  type TieBreak,
} from './quorum.js';
import { ReplayWindow } from './replay.js';
import type { DecodeError } from './result.js';
import { syncChunks } from './sync.js';
import { Joining } from './joining.js';
import { MemberView } from './view.js';
import type { MemberRecord } from './table.js';

export interface ReceiveResult extends StepResult {
  /** The authenticated sender (the adapter may learn its address from the datagram). */
  readonly sender?: string;
  /** Why the datagram was dropped (already counted in metrics().rejected). */
  readonly rejected?: DecodeError | { readonly reason: 'misdirected'; readonly message: string };
}

/**
 * One member of the speakers' gossip membership, as a pure state machine: the caller delivers
 * datagrams (`receive`), calls `tick` at `nextTickAt()`, and sends what comes back. No timers, no
 * sockets; the clock is the `now` passed in, randomness is the injected `random`.
 */
export class Membership {
  readonly name: string;
  private readonly timing: Timing;
  private readonly keys: MembershipKeys;
  private readonly random: () => number;
  private readonly tieBreaker?: () => TieBreak;
  private readonly view: MemberView;
  private readonly joining: Joining;
  private readonly counters = new Counters();
  private readonly outbox: Outbox;
  private readonly replay = new ReplayWindow();
  private readonly detector: Detector;
  private incarnation: number;
  /** The incarnation this life started at (start, or the last rejoin after being declared dead). */
  private lifeStartedAt: number;
  private phase: Phase = 'joining';
  private joinCause: 'start' | 'declared-dead' = 'start';
  private expectedTickAt?: number;
  private lastVerdict = '';
  /** Death broadcasts to send a second time (one lost datagram must not leave a member behind). */
  private echoes: Array<{ readonly at: number; readonly to: readonly string[]; readonly message: Message }> =
    [];

  constructor(config: MembershipConfig) {
    const problem = configProblem(config);
    if (problem) throw new RangeError(problem);
    this.name = config.name;
    this.timing = { ...DEFAULT_TIMING, ...config.timing };
    this.keys = config.keys;
    this.random = config.random;
    if (config.tieBreaker) this.tieBreaker = config.tieBreaker;
    this.incarnation = config.incarnation;
    this.lifeStartedAt = config.incarnation;
    this.phase = config.startPhase ?? 'joining';
    this.view = new MemberView(this.name, config.peers, this.timing.watchers);
    this.view.table.set(this.name, { status: 'alive', incarnation: this.incarnation });
    this.joining = new Joining(this.name, this.timing.joinRetryMs);
    this.outbox = new Outbox(this.name, this.keys, this.counters, this.timing.maxPiggyback);
    this.detector = new Detector(this.detectorHost());
  }

  // ---- inputs ----

  /** One datagram from the network. */
  receive(bytes: Buffer, now: number): ReceiveResult {
    this.counters.receivedPackets++;
    this.counters.receivedBytes += bytes.length;
    const decoded = decodePacket(bytes, this.keys);
    if (!decoded.ok) return this.reject(decoded.error);
    const p = decoded.value.packet;
    if (p.sender === this.name)
      return this.reject({ reason: 'misdirected', message: `packet from ourselves (${this.name})` });
    const fresh = this.replay.admit(p.sender, p.incarnation, p.sequence);
    if (!fresh.ok) return this.reject(fresh.error);
    const step = emptyStep();
    if (this.phase !== 'left') this.handle(step, p, now);
    this.finish(step, now);
    return { ...step, sender: p.sender };
  }

  /** Timers: call at nextTickAt() (earlier is harmless). */
  tick(now: number): StepResult {
    const step = emptyStep();
    if (this.phase === 'left') return step;
    if (this.expectedTickAt !== undefined && now - this.expectedTickAt > this.timing.stallMs)
      this.detector.stalled(now);
    this.detector.tick(step, now);
    const due = this.echoes.filter((e) => e.at <= now);
    this.echoes = this.echoes.filter((e) => e.at > now);
    for (const e of due) this.outbox.send(step, e.to, e.message, this.incarnation, 0);
    this.finish(step, now);
    return step;
  }

  /** Say goodbye to everyone: they take over at once and stop counting us for quorum. */
  leave(now: number): StepResult {
    const step = emptyStep();
    if (this.phase === 'left') return step;
    this.outbox.send(step, this.view.upOthers(), { type: 'leave' }, this.incarnation, 0);
    this.phase = 'left';
    this.view.table.set(this.name, { status: 'left', incarnation: this.incarnation });
    this.finish(step, now);
    return step;
  }

  /** A peer discovered through the API server (a new Node or speaker pod). */
  addPeer(name: string): void {
    if (!this.view.table.get(name)) this.view.table.set(name, { status: 'alive', incarnation: 0 });
  }

  /** A peer the API server says is gone (Node deleted): it no longer counts for quorum. */
  forgetPeer(name: string): void {
    const r = this.view.table.get(name);
    if (name === this.name || !r || r.status === 'left') return;
    this.view.table.set(name, { status: 'left', incarnation: r.incarnation });
    this.detector.settled(name);
  }

  // ---- queries ----

  /** When tick() must run next (ms, same clock as `now`). */
  nextTickAt(now: number): number {
    // Never longer than half the stall threshold, so a stall is noticed however idle we were.
    let due = Math.min(this.detector.nextDue(now), now + this.timing.stallMs / 2);
    if (this.phase === 'joining') due = Math.min(due, Math.max(now, this.joining.nextAttemptAt));
    for (const e of this.echoes) due = Math.min(due, e.at);
    // The fence must be reported when a neighbour's contact ages out, not at the next probe.
    for (const n of this.view.targets()) {
      const at = this.detector.reachedAt(n) + this.timing.quorumWindowMs;
      if (at > now) due = Math.min(due, at);
    }
    // Never in the past: work that is due but blocked (no quorum to judge) waits for a later tick.
    return Math.max(due, now + 1);
  }

  /** Members believed up (alive or suspect), this one included while it is a member; sorted. */
  aliveMembers(): string[] {
    return this.view.table
      .names('alive', 'suspect')
      .filter((n) => n !== this.name || this.phase === 'member')
      .sort();
  }

  /** Whether this member may announce now (see quorum.ts for the rule). */
  mayAnnounce(now: number): AnnounceVerdict {
    const phase =
      this.phase === 'joining' && this.joinCause === 'declared-dead' ? 'declared-dead' : this.phase;
    return announceVerdict({
      phase,
      tests: [this.reachTest(now), this.view.majorityTest()],
      ...(this.tieBreaker ? { tieBreaker: this.tieBreaker } : {}),
    });
  }

  /** True while a tie lasts, so the speaker asks the API server only then. */
  needsTieBreak(now: number): boolean {
    const tests = [this.reachTest(now), this.view.majorityTest()];
    return tests.every((t) => 2 * t.reached >= t.total) && tests.some((t) => 2 * t.reached === t.total);
  }

  /**
   * While a tie lasts, the members on this side of it (itself and the ring neighbours it heard
   * within the quorum window), sorted; else undefined. Every member of one half of a clean split
   * names the same side, so a tie-breaker keyed by it grants the whole half, not one node of it.
   */
  tieSide(now: number): string[] | undefined {
    if (!this.needsTieBreak(now)) return undefined;
    return [this.name, ...this.view.targets().filter((n) => this.heard(n, now))].sort();
  }

  /** What this member believes about `member` (itself included). */
  status(member: string): MemberRecord | undefined {
    return this.view.table.get(member);
  }

  metrics(): MembershipMetrics {
    const t = this.view.table;
    const members = {
      alive: t.count('alive'),
      suspect: t.count('suspect'),
      dead: t.count('dead'),
      left: t.count('left'),
    };
    return this.counters.snapshot(members, this.incarnation);
  }

  // ---- receiving ----

  private handle(step: StepResult, p: Packet, now: number): void {
    const m = p.message;
    const known = this.view.table.get(p.sender);
    if (m.type === 'join') return this.onJoin(step, p, now);
    if (known && (known.status === 'dead' || known.status === 'left') && known.incarnation >= p.incarnation) {
      // It was declared dead (or left) at this incarnation: tell it, so it rejoins higher.
      if (known.status === 'dead')
        this.send(step, [p.sender], {
          type: 'dead',
          member: p.sender,
          incarnation: known.incarnation,
          reason: 'confirmed',
        });
      return;
    }
    this.detector.heardFrom(p.sender, now);
    this.evidence(step, p);
    for (const u of p.updates) this.rumour(step, u, p.sender, now);
    switch (m.type) {
      case 'ping':
        if (m.target !== this.name) {
          this.counters.rejected.misdirected++;
          return;
        }
        this.detector.onPing(p.sender, now);
        this.send(step, [p.sender], { type: 'ack', probe: p.sequence });
        return;
      case 'ack':
        this.detector.onAck(step, p.sender, m.probe, now);
        this.joining.acked(p.sender, m.probe);
        return;
      case 'ping-req':
        return this.detector.onPingReq(step, p.sender, p.sequence, m.target, now);
      case 'indirect-ack':
        return this.detector.onIndirectAck(m.target, m.probe, now);
      case 'suspect':
        this.rumour(step, { status: 'suspect', member: m.member, incarnation: m.incarnation }, p.sender, now);
        if (m.member !== this.name) this.detector.onSuspicion(m.member, m.incarnation, p.sender);
        return;
      case 'alive':
        return this.rumour(
          step,
          { status: 'alive', member: m.member, incarnation: m.incarnation },
          p.sender,
          now,
        );
      case 'dead':
        return this.rumour(
          step,
          { status: 'dead', member: m.member, incarnation: m.incarnation },
          p.sender,
          now,
          m.reason,
        );
      case 'leave':
        return this.rumour(
          step,
          { status: 'left', member: p.sender, incarnation: p.incarnation },
          p.sender,
          now,
        );
      case 'sync':
        for (const e of m.entries) this.rumour(step, e, p.sender, now);
        return;
    }
  }

  private onJoin(step: StepResult, p: Packet, now: number): void {
    const known = this.view.table.get(p.sender);
    if (known?.status === 'dead' && known.incarnation >= p.incarnation) {
      this.send(step, [p.sender], {
        type: 'dead',
        member: p.sender,
        incarnation: known.incarnation,
        reason: 'confirmed',
      });
      return;
    }
    if (known?.status === 'left' && known.incarnation >= p.incarnation) return;
    this.detector.heardFrom(p.sender, now);
    this.evidence(step, p);
    for (const u of p.updates) this.rumour(step, u, p.sender, now);
    this.send(step, [p.sender], { type: 'ack', probe: p.sequence });
    // Its ring neighbours (everyone, in a small cluster) hand it the table.
    if (!this.view.near(p.sender, this.name)) return;
    for (const entries of syncChunks(this.view.table.entries(), this.timing.maxSyncBytes))
      this.outbox.send(step, [p.sender], { type: 'sync', entries }, this.incarnation, 0);
  }

  /**
   * An authenticated packet shows its sender running at the header's incarnation. Not gossiped:
   * its neighbours see it themselves, and a raised incarnation travels in its join or refutation.
   */
  private evidence(step: StepResult, p: Packet): void {
    const applied = this.view.apply(
      { status: 'alive', member: p.sender, incarnation: p.incarnation },
      p.sender,
    );
    if (!applied) return;
    this.detector.settled(p.sender);
    if (applied.event) step.events.push(applied.event);
  }

  /** Applies one rumour about a member, with SWIM's precedence, and passes it on. */
  private rumour(step: StepResult, u: MemberUpdate, from: string, now: number, reason?: DeathReason): void {
    if (u.member === this.name) return this.aboutSelf(step, u, from, now);
    const applied = this.view.apply(u, from, reason);
    if (!applied) return;
    this.outbox.gossip.add(u);
    if (u.status !== 'suspect') this.detector.settled(u.member);
    if (applied.event) step.events.push(applied.event);
  }

  /** Rumours about ourselves: refute a suspicion, rejoin after a death. */
  private aboutSelf(step: StepResult, u: MemberUpdate, from: string, now: number): void {
    if (u.status === 'dead' || u.status === 'left') {
      // A death at any incarnation of this life counts, even one we refuted meanwhile: the others
      // may have moved our work. Deaths from before our last (re)join are old news.
      if (u.incarnation < this.lifeStartedAt) return;
      step.events.push({ kind: 'self-declared-dead', by: from, incarnation: u.incarnation });
      this.rejoin(step, Math.max(u.incarnation, this.incarnation) + 1, now);
      return;
    }
    if (u.incarnation < this.incarnation) return;
    if (u.status === 'alive' && u.incarnation === this.incarnation) return;
    // Suspected (or an older life of ours claims a higher incarnation): refute above it.
    this.raiseIncarnation(u.incarnation + 1);
    this.counters.refutations++;
    step.events.push({ kind: 'self-refuted', by: from, incarnation: this.incarnation });
    const alive: MemberUpdate = { status: 'alive', member: this.name, incarnation: this.incarnation };
    this.outbox.gossip.add(alive);
    const to = new Set([from, ...this.view.watchersOf(this.name)]);
    to.delete(this.name);
    this.send(step, [...to], { type: 'alive', member: this.name, incarnation: this.incarnation });
  }

  // ---- joining ----

  private rejoin(step: StepResult, incarnation: number, now: number): void {
    this.phase = 'joining';
    this.joinCause = 'declared-dead';
    this.raiseIncarnation(incarnation);
    this.lifeStartedAt = this.incarnation;
    this.joining.restart();
    this.joinProgress(step, now);
  }

  private joinProgress(step: StepResult, now: number): void {
    const next = this.joining.progress(this.view, now, this.tieBreaker);
    if (next === 'joined') {
      this.phase = 'member';
      this.joinCause = 'start';
      step.events.push({ kind: 'self-joined', incarnation: this.incarnation });
    } else if (next.length > 0) {
      this.joining.sent(this.send(step, next, { type: 'join' }));
    }
  }

  private raiseIncarnation(to: number): void {
    this.incarnation = Math.max(this.incarnation, to);
    this.outbox.restart();
    this.view.table.set(this.name, { status: 'alive', incarnation: this.incarnation });
  }

  // ---- helpers ----

  private send(step: StepResult, to: readonly string[], message: Message): number {
    if (this.outbox.exhausted) this.raiseIncarnation(this.incarnation + 1);
    const n = this.view.table.count('alive') + this.view.table.count('suspect');
    const limit = this.timing.gossipRetransmitFactor * Math.ceil(Math.log2(n + 1));
    return this.outbox.send(step, to, message, this.incarnation, limit);
  }

  /** After every input: the verdict event, and when the caller is now expected to tick. */
  private finish(step: StepResult, now: number): void {
    if (this.phase === 'joining') this.joinProgress(step, now);
    this.expectedTickAt = this.nextTickAt(now);
    const verdict = this.mayAnnounce(now);
    const key = verdict.ok ? `ok:${verdict.basis}` : `no:${verdict.reason}`;
    if (key !== this.lastVerdict) {
      this.lastVerdict = key;
      step.events.push({ kind: 'verdict-changed', verdict });
    }
  }

  private reject(error: NonNullable<ReceiveResult['rejected']>): ReceiveResult {
    this.counters.rejected[error.reason]++;
    return { ...emptyStep(), rejected: error };
  }

  /**
   * Reached = heard from within the quorum window (see Detector.reachedAt: after a stall, only
   * once it answered a fresh probe; packets that waited in the socket prove nothing about now).
   */
  private heard(name: string, now: number): boolean {
    return now - this.detector.reachedAt(name) <= this.timing.quorumWindowMs;
  }

  private reachTest(now: number): MajorityTest {
    const neighbours = this.view.targets();
    const reached = neighbours.filter((n) => this.heard(n, now));
    const lowest = [this.name, ...neighbours].sort()[0];
    return {
      label: 'ring neighbours heard',
      reached: 1 + reached.length,
      total: 1 + neighbours.length,
      lowestOnOurSide: lowest === this.name || reached.includes(lowest as string),
    };
  }

  private detectorHost(): ConstructorParameters<typeof Detector>[0] {
    return {
      name: this.name,
      table: this.view.table,
      timing: this.timing,
      counters: this.counters,
      random: this.random,
      targets: () => this.view.targets(),
      watchersOf: (m) => this.view.watchersOf(m),
      // Only a member that may announce judges others: a cut-off minority (or the losing half of
      // a tie) never declares the majority dead.
      mayJudge: (now) => this.phase === 'member' && this.mayAnnounce(now).ok,
      ping: (step, target) => this.send(step, [target], { type: 'ping', target }),
      pingReq: (step, helpers, target) => this.send(step, helpers, { type: 'ping-req', target }),
      indirectAck: (step, requester, target, probe) =>
        void this.send(step, [requester], { type: 'indirect-ack', target, probe }),
      suspect: (step, member, incarnation, now) => {
        this.rumour(step, { status: 'suspect', member, incarnation }, this.name, now);
        const to = new Set([member, ...this.view.watchersOf(member)]);
        to.delete(this.name);
        this.send(step, [...to], { type: 'suspect', member, incarnation });
      },
      declareDead: (step, member, incarnation, reason, now) => {
        this.counters.deathsDeclared++;
        const everyone = this.view.table.names('alive', 'suspect').filter((n) => n !== this.name);
        this.rumour(step, { status: 'dead', member, incarnation }, this.name, now, reason);
        const dead: Message = { type: 'dead', member, incarnation, reason };
        this.outbox.send(step, everyone, dead, this.incarnation, 0);
        this.echoes.push({ at: now + this.timing.retryIntervalMs, to: everyone, message: dead });
      },
    };
  }
}
