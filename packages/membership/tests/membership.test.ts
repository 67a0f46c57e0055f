import { describe, expect, it } from '@jest/globals';
import {
  Membership,
  encodePacket,
  type AnnounceVerdict,
  type MembershipEvent,
  type TieBreak,
} from '../src/index.js';
import { SIM_KEYS, Simulation, memberNames, type SimOptions } from '../bench/simulator.js';

interface Logged {
  member: string;
  event: MembershipEvent;
  now: number;
}

function cluster(
  count: number,
  extra: Partial<SimOptions> = {},
): { sim: Simulation; log: Logged[]; names: string[] } {
  const names = memberNames(count);
  const log: Logged[] = [];
  const sim = new Simulation({
    names,
    seed: 11,
    onEvent: (member, event, now) => log.push({ member, event, now }),
    ...extra,
  });
  return { sim, log, names };
}

const deaths = (log: Logged[], member?: string) =>
  log.filter((l) => l.event.kind === 'member-dead' && (!member || l.event.member === member));

function verdicts(sim: Simulation, names: readonly string[]): Record<string, AnnounceVerdict> {
  return Object.fromEntries(names.map((n) => [n, sim.member(n).mayAnnounce(sim.now)]));
}

describe('joining', () => {
  it('a cluster started together joins through the handshake and everyone may announce', () => {
    const { sim, log, names } = cluster(5);
    sim.run(100);
    sim.run(2_000);
    for (const n of names) {
      expect(sim.member(n).mayAnnounce(sim.now)).toEqual({ ok: true, basis: 'majority' });
      expect(sim.member(n).aliveMembers()).toEqual(names);
    }
    expect(
      log
        .filter((l) => l.event.kind === 'self-joined')
        .map((l) => l.member)
        .sort(),
    ).toEqual(names);
  });

  it('a lone member of three keeps joining (fenced) until a majority answers', () => {
    const { sim, names } = cluster(3);
    sim.kill(names[1]!);
    sim.kill(names[2]!);
    sim.run(3_000);
    expect(sim.member(names[0]!).mayAnnounce(sim.now)).toMatchObject({ ok: false, reason: 'joining' });
    sim.start(names[1]!, names, 5);
    sim.run(4_000);
    expect(sim.member(names[0]!).mayAnnounce(sim.now)).toMatchObject({ ok: true });
  });
});

describe('failure detection', () => {
  it('a killed member is declared dead by a watcher, confirmed, and everyone knows within a second', () => {
    const { sim, log, names } = cluster(10, { startPhase: 'member' });
    sim.run(2_000);
    const victim = names[4]!;
    sim.kill(victim);
    sim.run(4_000);
    const seen = deaths(log, victim);
    expect(new Set(seen.map((l) => l.member))).toEqual(new Set(names.filter((n) => n !== victim)));
    expect(Math.max(...seen.map((l) => l.now)) - 2_000).toBeLessThan(1_000);
    const declared = seen.find((l) => l.event.kind === 'member-dead' && l.event.by === l.member);
    expect(declared?.event).toMatchObject({ reason: 'confirmed' });
    for (const n of names.filter((x) => x !== victim)) {
      expect(sim.member(n).aliveMembers()).not.toContain(victim);
      expect(sim.member(n).mayAnnounce(sim.now)).toEqual({ ok: true, basis: 'majority' });
    }
    expect(deaths(log).length).toBe(names.length - 1);
  });

  it('one broken link is not a death: indirect probes go around it (without them, it would be)', () => {
    const { sim, log, names } = cluster(5, { startPhase: 'member' });
    sim.cutLink(names[0]!, names[1]!);
    sim.run(30_000);
    expect(deaths(log)).toEqual([]);
    const direct = cluster(5, { startPhase: 'member', timing: { indirectProbes: 0 } });
    direct.sim.cutLink(names[0]!, names[1]!);
    direct.sim.run(30_000);
    expect(deaths(direct.log).length).toBeGreaterThan(0);
  });

  it('5% loss for a minute: no false death', () => {
    const { sim, log } = cluster(8, { startPhase: 'member', loss: 0.05 });
    sim.run(60_000);
    expect(deaths(log)).toEqual([]);
  });

  it('a 300 ms stall every 10 s is refuted, never a death, and the stalled member does not suspect others', () => {
    const { sim, log, names } = cluster(5, { startPhase: 'member' });
    const owner = names[2]!;
    for (let t = 1_000; t < 60_000; t += 10_000) {
      sim.at(t, () => sim.stop(owner));
      sim.at(t + 300, () => sim.resume(owner));
    }
    sim.run(61_000);
    expect(deaths(log)).toEqual([]);
    expect(
      log.filter((l) => l.member === owner && l.event.kind === 'member-suspected' && l.event.by === owner),
    ).toEqual([]);
  });
});

describe('declared dead and back (SIGSTOP)', () => {
  it('learns it was declared dead, never announces before rejoining at a higher incarnation', () => {
    const { sim, log, names } = cluster(5, { startPhase: 'member' });
    const stopped = names[1]!;
    sim.run(2_000);
    expect(sim.member(stopped).mayAnnounce(sim.now).ok).toBe(true);
    const before = sim.member(stopped).metrics().incarnation;
    sim.stop(stopped);
    sim.run(12_000);
    expect(deaths(log, stopped).length).toBe(names.length - 1);
    sim.resume(stopped);
    // The instant it runs again its contacts are 10 s old: fenced before any packet is read.
    const afterResume = log.filter((l) => l.member === stopped && l.now >= 12_000);
    const verdictsSeen = afterResume.filter((l) => l.event.kind === 'verdict-changed').map((l) => l.event);
    expect(verdictsSeen[0]).toMatchObject({ verdict: { ok: false, reason: 'fenced-minority' } });
    sim.run(14_000);
    const after = log.filter((l) => l.member === stopped && l.now >= 12_000);
    const order = after.map((l) =>
      l.event.kind === 'verdict-changed'
        ? l.event.verdict.ok
          ? 'ok'
          : l.event.verdict.reason
        : l.event.kind,
    );
    const learned = order.indexOf('self-declared-dead');
    const rejoined = order.indexOf('self-joined');
    expect(learned).toBeGreaterThan(0);
    expect(rejoined).toBeGreaterThan(learned);
    expect(order.indexOf('declared-dead')).toBeGreaterThan(learned);
    expect(order.indexOf('ok')).toBeGreaterThan(rejoined);
    expect(sim.member(stopped).metrics().incarnation).toBeGreaterThan(before);
    for (const n of names) expect(sim.member(n).aliveMembers()).toContain(stopped);
  });
});

describe('partition and quorum', () => {
  it('a member cut off goes silent before the majority declares it dead', () => {
    const { sim, log, names } = cluster(5, { startPhase: 'member' });
    sim.run(2_000);
    const cut = names[0]!;
    for (const n of names.slice(1)) sim.cutLink(cut, n);
    sim.run(5_000);
    const fencedAt = log.find(
      (l) => l.member === cut && l.now >= 2_000 && l.event.kind === 'verdict-changed' && !l.event.verdict.ok,
    );
    const firstDeath = deaths(log, cut)[0];
    expect(fencedAt?.event).toMatchObject({ verdict: { reason: 'fenced-minority' } });
    expect(firstDeath).toBeDefined();
    expect(fencedAt!.now).toBeLessThan(firstDeath!.now);
    // The minority does not declare the majority dead.
    expect(deaths(log).filter((l) => l.member === cut)).toEqual([]);
    for (const n of names.slice(1)) expect(sim.member(n).mayAnnounce(sim.now).ok).toBe(true);
  });

  it('three of five cut off: the two fence, the three keep announcing', () => {
    const { sim, names } = cluster(5, { startPhase: 'member' });
    sim.run(2_000);
    const small = names.slice(0, 2);
    const big = names.slice(2);
    for (const a of small) for (const b of big) sim.cutLink(a, b);
    sim.run(6_000);
    for (const n of small) expect(sim.member(n).mayAnnounce(sim.now)).toMatchObject({ ok: false });
    for (const n of big) expect(sim.member(n).mayAnnounce(sim.now)).toEqual({ ok: true, basis: 'majority' });
  });
});

describe('two nodes', () => {
  const [low, high] = memberNames(2) as [string, string];

  it('without a tie-breaker the lower-named survivor keeps announcing; the higher-named one goes silent', () => {
    const a = cluster(2, { startPhase: 'member' });
    a.sim.run(2_000);
    a.sim.kill(high);
    a.sim.run(5_000);
    expect(a.sim.member(low).mayAnnounce(a.sim.now)).toEqual({ ok: true, basis: 'lowest-name' });
    const b = cluster(2, { startPhase: 'member' });
    b.sim.run(2_000);
    b.sim.kill(low);
    b.sim.run(5_000);
    expect(b.sim.member(high).mayAnnounce(b.sim.now)).toMatchObject({ ok: false, reason: 'fenced-tie' });
  });

  it('a partition of two never leaves both announcing; with a tie-breaker only the granted one does', () => {
    const plain = cluster(2, { startPhase: 'member' });
    plain.sim.run(2_000);
    plain.sim.cutLink(low, high);
    plain.sim.run(6_000);
    const both = verdicts(plain.sim, [low, high]);
    expect([both[low]!.ok, both[high]!.ok]).toEqual([true, false]);

    const grants: Record<string, TieBreak> = { [low]: 'denied', [high]: 'granted' };
    const asked = new Set<string>();
    const withApi = cluster(2, {
      startPhase: 'member',
      tieBreaker: (name) => () => {
        asked.add(name);
        return grants[name]!;
      },
    });
    withApi.sim.run(2_000);
    asked.clear();
    withApi.sim.run(4_000);
    expect(asked.size).toBe(0); // no tie, no question to the API server
    expect(withApi.sim.member(low).needsTieBreak(withApi.sim.now)).toBe(false);
    withApi.sim.cutLink(low, high);
    withApi.sim.run(6_000);
    expect(withApi.sim.member(low).needsTieBreak(withApi.sim.now)).toBe(true);
    expect(verdicts(withApi.sim, [low, high])).toEqual({
      [low]: expect.objectContaining({ ok: false, reason: 'fenced-tie' }),
      [high]: { ok: true, basis: 'tie-breaker' },
    });
  });
});

describe('an even split', () => {
  it('each member of a half names the same side of the tie: its half', () => {
    const { sim, names } = cluster(4, { startPhase: 'member' });
    const [a, b, c, d] = names as [string, string, string, string];
    sim.run(2_000);
    expect(names.map((n) => sim.member(n).tieSide(sim.now))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    for (const x of [a, b]) for (const y of [c, d]) sim.cutLink(x, y);
    sim.run(4_000);
    expect(names.map((n) => sim.member(n).tieSide(sim.now))).toEqual([
      [a, b],
      [a, b],
      [c, d],
      [c, d],
    ]);
  });
});

describe('leave, keys and counters', () => {
  it('a graceful leave is known at once and no longer counts for quorum', () => {
    const { sim, log, names } = cluster(3, { startPhase: 'member' });
    sim.run(2_000);
    sim.leave(names[0]!);
    sim.run(2_010);
    expect(
      log
        .filter((l) => l.event.kind === 'member-left')
        .map((l) => l.member)
        .sort(),
    ).toEqual(names.slice(1));
    expect(sim.member(names[0]!).mayAnnounce(sim.now)).toMatchObject({ ok: false, reason: 'left' });
    sim.kill(names[0]!);
    sim.run(8_000);
    expect(deaths(log)).toEqual([]);
    for (const n of names.slice(1)) expect(sim.member(n).mayAnnounce(sim.now).ok).toBe(true);
  });

  it('counts forged, replayed and garbled packets by reason and ignores them', () => {
    const m = new Membership({
      name: 'node-a',
      keys: SIM_KEYS,
      peers: ['node-a', 'node-b'],
      incarnation: 1,
      random: () => 0.3,
    });
    const ping = encodePacket(
      {
        sender: 'node-b',
        incarnation: 4,
        sequence: 1,
        message: { type: 'ping', target: 'node-a' },
        updates: [],
      },
      SIM_KEYS,
    );
    expect(m.receive(ping, 0).send.map((o) => o.to)).toContain('node-b');
    expect(m.receive(ping, 1)).toMatchObject({ send: [], rejected: { reason: 'replayed' } });
    const forged = encodePacket(
      {
        sender: 'node-b',
        incarnation: 4,
        sequence: 2,
        message: { type: 'dead', member: 'node-a', incarnation: 1, reason: 'confirmed' },
        updates: [],
      },
      { primary: Buffer.alloc(32, 9) },
    );
    expect(m.receive(forged, 2)).toMatchObject({ send: [], events: [], rejected: { reason: 'bad-mac' } });
    expect(m.receive(ping.subarray(0, 20), 3).rejected?.reason).toBe('truncated');
    const misdirected = encodePacket(
      {
        sender: 'node-b',
        incarnation: 4,
        sequence: 3,
        message: { type: 'ping', target: 'node-c' },
        updates: [],
      },
      SIM_KEYS,
    );
    expect(m.receive(misdirected, 4).send).toEqual([]);
    expect(m.metrics().rejected).toMatchObject({ replayed: 1, 'bad-mac': 1, truncated: 1, misdirected: 1 });
    expect(m.metrics().members).toEqual({ alive: 2, suspect: 0, dead: 0, left: 0 });
  });

  it('refuses a bad configuration with a reason', () => {
    const base = { name: 'node-a', keys: SIM_KEYS, peers: [], incarnation: 1, random: () => 0 };
    expect(() => new Membership({ ...base, name: 'Node_A' })).toThrow('membership name');
    expect(() => new Membership({ ...base, keys: { primary: Buffer.alloc(3) } })).toThrow('at least 16');
    expect(() => new Membership({ ...base, timing: { quorumWindowMs: 2_000 } })).toThrow('quorumWindowMs');
  });
});
