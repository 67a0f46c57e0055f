import { seededRandom } from '@metallb-ts/fuzz-kit';
import { Membership, type MembershipConfig, type MembershipEvent, type Timing } from '../src/index.js';

/**
 * A discrete-event simulation of the pure state machine: a virtual clock, a network with loss and
 * latency, no sockets and no timers. Every packet is really encoded, signed, verified and decoded.
 * Used by the benchmark and by the unit tests' scenarios.
 */
export interface SimOptions {
  readonly names: readonly string[];
  readonly seed: number;
  /** Probability that any one datagram is lost. */
  readonly loss?: number;
  /** One-way latency: base + uniform jitter, ms. */
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  readonly timing?: Partial<Timing>;
  readonly startPhase?: 'joining' | 'member';
  /** Per member: a tie-breaker (two-node tests). */
  readonly tieBreaker?: (name: string) => MembershipConfig['tieBreaker'];
  readonly onEvent?: (member: string, event: MembershipEvent, now: number) => void;
  /** Every datagram a member sends, before loss and cuts (tests inspect the wire). */
  readonly onSend?: (from: string, to: string, bytes: Buffer, now: number) => void;
}

type SimEvent =
  | { at: number; n: number; kind: 'deliver'; to: string; from: string; bytes: Buffer }
  | { at: number; n: number; kind: 'tick'; member: string }
  | { at: number; n: number; kind: 'call'; run: () => void };

/** A binary min-heap on (at, n). */
class Queue {
  private readonly items: SimEvent[] = [];
  get size(): number {
    return this.items.length;
  }
  push(e: SimEvent): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  peek(): SimEvent | undefined {
    return this.items[0];
  }
  pop(): SimEvent | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.n < b.n);
}

export const SIM_KEYS = { primary: Buffer.alloc(32, 7) };

export class Simulation {
  readonly members = new Map<string, Membership>();
  now = 0;
  private n = 0;
  private readonly queue = new Queue();
  private readonly random: () => number;
  private readonly scheduled = new Map<string, number>();
  /** Killed members: they neither send nor receive nor tick. */
  readonly dead = new Set<string>();
  /** Stopped members: packets wait for them, ticks too (SIGSTOP). */
  private readonly stopped = new Map<string, Array<{ from: string; bytes: Buffer }>>();
  /** Cut links: `a|b` dropped both ways. */
  private readonly cut = new Set<string>();
  /** Blocked members: every datagram to or from them is dropped (a firewall rule, a dead switch port). */
  private readonly blocked = new Set<string>();
  loss: number;
  delivered = 0;

  constructor(private readonly o: SimOptions) {
    this.random = seededRandom(o.seed);
    this.loss = o.loss ?? 0;
    const peers = o.names;
    for (const name of peers) this.start(name, peers, 0);
  }

  /** Starts (or restarts) a member at the current time. */
  start(
    name: string,
    peers: readonly string[],
    incarnation: number,
    startPhase = this.o.startPhase,
  ): Membership {
    const tieBreaker = this.o.tieBreaker?.(name);
    const m = new Membership({
      name,
      keys: SIM_KEYS,
      peers,
      incarnation,
      random: seededRandom(this.o.seed ^ hash(name)),
      ...(this.o.timing ? { timing: this.o.timing } : {}),
      ...(startPhase ? { startPhase } : {}),
      ...(tieBreaker ? { tieBreaker } : {}),
    });
    this.members.set(name, m);
    this.dead.delete(name);
    this.scheduled.delete(name);
    this.schedule(name, this.now);
    return m;
  }

  kill(name: string): void {
    this.dead.add(name);
  }

  stop(name: string): void {
    if (!this.stopped.has(name)) this.stopped.set(name, []);
  }

  resume(name: string): void {
    const backlog = this.stopped.get(name) ?? [];
    this.stopped.delete(name);
    this.scheduled.delete(name);
    // The timer fires first after a stall (Node runs due timers before I/O), then the backlog.
    this.runTick(name);
    for (const p of backlog) this.receive(name, p.from, p.bytes);
  }

  cutLink(a: string, b: string): void {
    this.cut.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  healLink(a: string, b: string): void {
    this.cut.delete(`${a}|${b}`);
    this.cut.delete(`${b}|${a}`);
  }

  /** Drops every datagram to or from `name` until unblock (also those already in flight). */
  block(name: string): void {
    this.blocked.add(name);
  }

  unblock(name: string): void {
    this.blocked.delete(name);
  }

  leave(name: string): void {
    this.dispatch(name, this.member(name).leave(this.now));
  }

  at(time: number, run: () => void): void {
    this.queue.push({ at: time, n: this.n++, kind: 'call', run });
  }

  member(name: string): Membership {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  /** Runs every event up to `until` (virtual ms). */
  run(until: number): void {
    for (;;) {
      const e = this.queue.peek();
      if (!e || e.at > until) break;
      this.queue.pop();
      this.now = e.at;
      if (e.kind === 'call') e.run();
      else if (e.kind === 'tick') {
        if (this.scheduled.get(e.member) !== e.at || this.dead.has(e.member) || this.stopped.has(e.member))
          continue;
        this.scheduled.delete(e.member);
        this.runTick(e.member);
      } else if (!this.dead.has(e.to) && !this.blocked.has(e.to)) {
        const backlog = this.stopped.get(e.to);
        if (backlog) backlog.push({ from: e.from, bytes: e.bytes });
        else this.receive(e.to, e.from, e.bytes);
      }
    }
    this.now = until;
  }

  private runTick(name: string): void {
    this.dispatch(name, this.member(name).tick(this.now));
  }

  private receive(to: string, from: string, bytes: Buffer): void {
    this.delivered++;
    this.dispatch(to, this.member(to).receive(bytes, this.now));
    void from;
  }

  private dispatch(
    from: string,
    step: { send: { to: string; bytes: Buffer }[]; events: MembershipEvent[] },
  ): void {
    for (const ev of step.events) this.o.onEvent?.(from, ev, this.now);
    for (const out of step.send) {
      this.o.onSend?.(from, out.to, out.bytes, this.now);
      if (
        this.dead.has(out.to) ||
        this.blocked.has(from) ||
        this.blocked.has(out.to) ||
        this.cut.has(`${from}|${out.to}`) ||
        this.random() < this.loss
      )
        continue;
      const latency = (this.o.latencyMs ?? 0.2) + this.random() * (this.o.jitterMs ?? 0.3);
      this.queue.push({
        at: this.now + latency,
        n: this.n++,
        kind: 'deliver',
        to: out.to,
        from,
        bytes: out.bytes,
      });
    }
    if (!this.dead.has(from) && !this.stopped.has(from))
      this.schedule(from, this.member(from).nextTickAt(this.now));
  }

  private schedule(name: string, at: number): void {
    const current = this.scheduled.get(name);
    if (current !== undefined && current <= at && current >= this.now) return;
    const when = Math.max(at, this.now);
    this.scheduled.set(name, when);
    this.queue.push({ at: when, n: this.n++, kind: 'tick', member: name });
  }
}

export function memberNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node-${String(i + 1).padStart(4, '0')}`);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
