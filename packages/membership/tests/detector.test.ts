import { describe, expect, it } from '@jest/globals';
import { DEFAULT_TIMING, Membership, decodePacket, type MembershipEvent } from '../src/index.js';
import { silenceStage } from '../src/detector.js';
import { MemberView } from '../src/view.js';
import { SIM_KEYS, Simulation, memberNames, type SimOptions } from '../bench/simulator.js';

interface Logged {
  member: string;
  event: MembershipEvent;
  now: number;
}

interface Sent {
  from: string;
  to: string;
  type: string;
  subject?: string;
  now: number;
}

function cluster(count: number, extra: Partial<SimOptions> = {}) {
  const names = memberNames(count);
  const log: Logged[] = [];
  const sent: Sent[] = [];
  const sim = new Simulation({
    names,
    seed: 23,
    startPhase: 'member',
    onEvent: (member, event, now) => log.push({ member, event, now }),
    onSend: (from, to, bytes, now) => {
      const d = decodePacket(bytes, SIM_KEYS);
      if (!d.ok) throw new Error(`the simulator sent an undecodable packet: ${d.error.message}`);
      const m = d.value.packet.message;
      const subject = 'member' in m ? m.member : 'target' in m ? m.target : undefined;
      sent.push({ from, to, type: m.type, now, ...(subject ? { subject } : {}) });
    },
    ...extra,
  });
  return { sim, log, sent, names };
}

const declared = (log: Logged[]) =>
  log.filter(
    (l): l is Logged & { event: Extract<MembershipEvent, { kind: 'member-dead' }> } =>
      l.event.kind === 'member-dead' && l.event.by === l.member,
  );

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

describe('silence stages', () => {
  const t = DEFAULT_TIMING;
  it('go none, retry, indirect, suspect, then dead only when confirmed or after suspicionMaxMs', () => {
    expect(silenceStage(t, t.retryAfterMs - 1, true)).toBe('none');
    expect(silenceStage(t, t.retryAfterMs, false)).toBe('retry');
    expect(silenceStage(t, t.indirectAfterMs, false)).toBe('indirect');
    expect(silenceStage(t, t.suspectAfterMs, true)).toBe('suspect');
    expect(silenceStage(t, t.deadAfterMs - 1, true)).toBe('suspect');
    expect(silenceStage(t, t.deadAfterMs, false)).toBe('suspect');
    expect(silenceStage(t, t.deadAfterMs, true)).toBe('dead');
    expect(silenceStage(t, t.suspicionMaxMs, false)).toBe('dead');
  });

  it('default thresholds outlast a 300 ms stall after the longest gap between a pair’s packets', () => {
    const gap = t.probeIntervalMs / 2;
    expect(t.suspectAfterMs).toBeGreaterThanOrEqual(300 + gap);
    expect(t.deadAfterMs).toBeGreaterThanOrEqual(300 + gap + 2 * t.retryIntervalMs);
    expect(t.retryAfterMs).toBeGreaterThan(gap);
  });
});

describe('ring neighbours', () => {
  it('are symmetric: each member watches exactly the members that watch it', () => {
    const names = memberNames(50);
    const view = new MemberView(names[0]!, names, DEFAULT_TIMING.watchers);
    for (const a of names) {
      const mine = view.neighbours(a);
      expect(mine).toHaveLength(DEFAULT_TIMING.watchers);
      for (const b of mine) expect(view.neighbours(b)).toContain(a);
      expect(new MemberView(a, names, DEFAULT_TIMING.watchers).targets()).toEqual(mine);
      expect(view.watchersOf(a)).toEqual(mine);
    }
  });

  it('skip dead members, and are everyone in a cluster of at most k + 1', () => {
    const names = memberNames(50);
    const view = new MemberView(names[0]!, names, 4);
    const before = view.neighbours(names[7]!);
    view.table.set(before[0]!, { status: 'dead', incarnation: 0 });
    const after = view.neighbours(names[7]!);
    expect(after).not.toContain(before[0]);
    expect(after).toHaveLength(4);
    const small = memberNames(5);
    expect(new MemberView(small[0]!, small, 4).neighbours(small[2]!).sort()).toEqual(
      small.filter((n) => n !== small[2]).sort(),
    );
  });
});

describe('probing', () => {
  it('the two ends of a pair ping half an interval apart, so each hears the other every interval/2', () => {
    const { sim, sent, names } = cluster(2);
    sim.run(10_000);
    const [a, b] = names as [string, string];
    const heard = sent.filter((s) => s.from === b && s.to === a && s.now > 3_000).map((s) => s.now);
    const gaps = heard.slice(1).map((x, i) => x - heard[i]!);
    expect(gaps.length).toBeGreaterThan(30);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(DEFAULT_TIMING.probeIntervalMs / 2 + 2);
    // ...and both ends ping: acks alone would not alternate.
    expect(sent.some((s) => s.from === a && s.type === 'ping')).toBe(true);
    expect(sent.some((s) => s.from === b && s.type === 'ping')).toBe(true);
  });

  it('a pair woken together pings in step once, then alternates again without doubling its pings', () => {
    const { sim, sent, names } = cluster(2);
    const [a, b] = names as [string, string];
    sim.run(5_000);
    // Both ends stall together, then both ping at once on waking: only one of them may follow.
    sim.stop(a);
    sim.stop(b);
    sim.run(5_300);
    sim.resume(a);
    sim.resume(b);
    sim.run(12_000);
    const heard = sent.filter((s) => s.from === b && s.to === a && s.now > 7_000).map((s) => s.now);
    const gaps = heard.slice(1).map((x, i) => x - heard[i]!);
    expect(gaps.length).toBeGreaterThan(20);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(DEFAULT_TIMING.probeIntervalMs / 2 + 2);
    // In step, each would follow the other and both would ping every interval/2: twice the packets.
    const pings = sent.filter((s) => s.type === 'ping' && s.now >= 5_300 && s.now < 7_000).length;
    expect(pings).toBeLessThanOrEqual((2 * 1_700) / DEFAULT_TIMING.probeIntervalMs + 2);
  });

  it('costs at most 50 packets per second sent plus received per member at 1% loss', () => {
    const { sim, names } = cluster(60, { loss: 0.01 });
    sim.run(2_000);
    const total = () =>
      names.reduce((a, n) => {
        const m = sim.member(n).metrics();
        return a + m.sent.packets + m.received.packets;
      }, 0);
    const before = total();
    sim.run(12_000);
    const perMember = (total() - before) / names.length / 10;
    expect(perMember).toBeLessThanOrEqual(50);
    expect(perMember).toBeGreaterThan(30); // it does probe
  });

  it('asks the silent member’s own watchers to ping it, not random members', () => {
    const { sim, sent, names } = cluster(30);
    const view = new MemberView(names[0]!, names, DEFAULT_TIMING.watchers);
    const target = names[3]!;
    const watcher = view.neighbours(target)[0]!;
    sim.run(1_000);
    sim.cutLink(watcher, target);
    sim.run(6_000);
    const asked = sent.filter((s) => s.from === watcher && s.type === 'ping-req' && s.subject === target);
    expect(asked.length).toBeGreaterThan(0);
    const others = view.neighbours(target).filter((n) => n !== watcher);
    for (const s of asked) expect(others).toContain(s.to);
  });
});

describe('detection', () => {
  it('declares a killed member dead in under 420 ms (median of 12), and tells every member twice', () => {
    const { sim, log, sent, names } = cluster(30, { loss: 0.01 });
    sim.run(2_000);
    const took: number[] = [];
    for (let i = 0; i < 12; i++) {
      const victim = names[(i * 7) % names.length]!;
      const at = sim.now;
      sim.kill(victim);
      sim.run(at + 1_000);
      const first = declared(log).find((l) => l.event.member === victim && l.now >= at);
      expect(first).toBeDefined();
      took.push(first!.now - at);
      sim.start(victim, names, 10 + i, 'joining');
      sim.run(sim.now + 1_000);
    }
    expect(median(took)).toBeLessThan(420);
    expect(Math.max(...took)).toBeLessThan(DEFAULT_TIMING.deadAfterMs + 5);
    const first = declared(log)[0]!;
    const copies = sent.filter(
      (s) => s.from === first.member && s.type === 'dead' && s.subject === first.event.member,
    );
    const perMember = new Map<string, number>();
    for (const c of copies) perMember.set(c.to, (perMember.get(c.to) ?? 0) + 1);
    expect(perMember.size).toBeGreaterThanOrEqual(names.length - 2);
    for (const n of perMember.values()) expect(n).toBeGreaterThanOrEqual(2);
  });

  it('a member stalled 300 ms every 1.5 s at 1% loss is never declared dead and declares no one', () => {
    const { sim, log, names } = cluster(12, { loss: 0.01 });
    const owner = names[5]!;
    for (let t = 1_000; t < 60_000; t += 1_500) {
      sim.at(t, () => sim.stop(owner));
      sim.at(t + 300, () => sim.resume(owner));
    }
    sim.run(61_000);
    expect(declared(log)).toEqual([]);
    expect(log.filter((l) => l.event.kind === 'self-declared-dead')).toEqual([]);
  });

  it('a member whose network is blocked for 300 ms every 1.5 s at 1% loss is never declared dead', () => {
    const { sim, log, names } = cluster(12, { loss: 0.01 });
    const owner = names[5]!;
    for (let t = 1_000; t < 60_000; t += 1_500) {
      sim.at(t, () => sim.block(owner));
      sim.at(t + 300, () => sim.unblock(owner));
    }
    sim.run(61_000);
    expect(declared(log)).toEqual([]);
  });
});

describe('minority partition', () => {
  it('10 of 100 cut off: each fences before the majority declares it, and declares no one in the majority', () => {
    const { sim, log, names } = cluster(100, { loss: 0.01 });
    sim.run(2_000);
    const minority = new Set(names.slice(0, 10));
    for (const a of minority) for (const b of names.slice(10)) sim.cutLink(a, b);
    sim.run(6_000);
    for (const m of minority) {
      const fenced = log.find(
        (l) => l.member === m && l.now >= 2_000 && l.event.kind === 'verdict-changed' && !l.event.verdict.ok,
      );
      const first = declared(log).find((l) => l.event.member === m);
      expect(fenced).toBeDefined();
      expect(first).toBeDefined();
      expect(fenced!.now).toBeLessThan(first!.now);
      expect(sim.member(m).mayAnnounce(sim.now).ok).toBe(false);
    }
    expect(declared(log).filter((l) => minority.has(l.member) && !minority.has(l.event.member))).toEqual([]);
    for (const n of names.slice(10)) expect(sim.member(n).mayAnnounce(sim.now).ok).toBe(true);
  });
});

describe('timing checks', () => {
  it('refuses thresholds out of order, with the values', () => {
    const base = { name: 'node-a', keys: SIM_KEYS, peers: [], incarnation: 1, random: () => 0 };
    expect(() => new Membership({ ...base, timing: { suspectAfterMs: 600, deadAfterMs: 500 } })).toThrow(
      'suspectAfterMs (600) <= deadAfterMs (500)',
    );
    expect(() => new Membership({ ...base, timing: { quorumWindowMs: 400 } })).toThrow(
      'quorumWindowMs (400)',
    );
  });
});
