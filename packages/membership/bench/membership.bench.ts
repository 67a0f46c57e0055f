// Gossip membership at scale, by simulation of the pure state machine (bench/simulator.ts): a
// virtual clock, random loss on every datagram, 0.2-0.5 ms one-way latency, no sockets. Every
// packet is really encoded, HMAC-signed, verified and decoded.
// Per row, one run: warm-up, a steady window (false suspicions and deaths, packets and bytes sent
// plus received per member), then trials that each kill one member, measure the time to the first
// declaration and until every living member knows, and restart it (it rejoins).
// Rows: 10 to 5,000 members at 1% loss; then 100 members at 5% loss, with one member whose event
// loop stalls 300 ms every 3 s, with one member whose network is blocked 300 ms every 3 s, and a
// minority partition (10 of 100 cut off: how long before the majority's first declaration each
// minority member had fenced itself; >= 0 is safe).
// Run: pnpm bench membership   or   pnpm exec tsx packages/membership/bench/membership.bench.ts [maxN] [steadySeconds] [trials]
import type { MembershipEvent, Timing } from '../src/index.js';
import { Simulation, memberNames } from './simulator.js';

const maxN = Number(process.argv[2] ?? 5000);
const steadyOverride = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const trialsOverride = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
/** Optional JSON timing override, to compare protocol settings in one run. */
const timing = process.env.MEMBERSHIP_TIMING
  ? (JSON.parse(process.env.MEMBERSHIP_TIMING) as Partial<Timing>)
  : undefined;
const WARMUP_MS = 2_000;
const TRIAL_MS = 3_000;
const DISTURB_EVERY_MS = 3_000;
const DISTURB_FOR_MS = 300;

type Disturbance = 'stall' | 'block';

interface Plan {
  readonly label: string;
  readonly n: number;
  readonly loss: number;
  readonly steadyS: number;
  readonly trials: number;
  readonly disturb?: Disturbance;
  readonly partition?: number;
}

/** Steady seconds and trials per row: enough member-hours, within a few minutes on one core. */
const allPlans: Plan[] = [
  { label: '1% loss', n: 10, loss: 0.01, steadyS: 1_800, trials: 40 },
  { label: '1% loss', n: 100, loss: 0.01, steadyS: 300, trials: 30 },
  { label: '1% loss', n: 1_000, loss: 0.01, steadyS: 60, trials: 12 },
  { label: '1% loss', n: 5_000, loss: 0.01, steadyS: 20, trials: 6 },
  { label: '5% loss', n: 100, loss: 0.05, steadyS: 300, trials: 30 },
  {
    label: '1% loss, one member stalls 300 ms every 3 s',
    n: 100,
    loss: 0.01,
    steadyS: 300,
    trials: 30,
    disturb: 'stall',
  },
  {
    label: '1% loss, one member blocked 300 ms every 3 s',
    n: 100,
    loss: 0.01,
    steadyS: 300,
    trials: 30,
    disturb: 'block',
  },
  { label: '1% loss, 10 of 100 cut off', n: 100, loss: 0.01, steadyS: 0, trials: 0, partition: 10 },
];
const plans = allPlans.filter((p) => p.n <= maxN);

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

interface Row {
  scenario: string;
  members: number;
  'detect p50 ms': number;
  'detect p99 ms': number;
  'all know p50 ms': number;
  'all know p99 ms': number;
  trials: number;
  'false suspicions /member-h': number;
  'false deaths': number;
  'member-hours': number;
  'sent+recv pkts/s per member': number;
  'sent+recv bytes/s per member': number;
  'fence gap min ms': number | string;
  'wall s': number;
}

interface Trial {
  victims: Set<string>;
  at: number;
  first: Map<string, number>;
  knowing: Map<string, Set<string>>;
  all: Map<string, number>;
}

function run(p: Plan, seed: number): Row {
  const started = performance.now();
  const names = memberNames(p.n);
  const disturbed = p.disturb ? names[0] : undefined;
  const killed = new Set<string>();
  let falseSuspicions = 0;
  let falseDeaths = 0;
  let measuring = false;
  let trial: Trial | undefined;
  const fencedAt = new Map<string, number>();
  const onEvent = (member: string, e: MembershipEvent, now: number) => {
    if (trial && e.kind === 'verdict-changed' && !e.verdict.ok && trial.victims.has(member))
      if (!fencedAt.has(member)) fencedAt.set(member, now);
    if (e.kind === 'member-suspected' && e.by === member && measuring && !killed.has(e.member))
      falseSuspicions++;
    if (e.kind !== 'member-dead') return;
    if (trial?.victims.has(e.member) && !trial.victims.has(member)) {
      if (!trial.first.has(e.member)) trial.first.set(e.member, now);
      const knowing = trial.knowing.get(e.member) ?? new Set<string>();
      trial.knowing.set(e.member, knowing.add(member));
      if (knowing.size === p.n - trial.victims.size && !trial.all.has(e.member)) trial.all.set(e.member, now);
    } else if (e.by === member && measuring && !killed.has(e.member)) falseDeaths++;
  };
  const sim = new Simulation({
    names,
    seed,
    loss: p.loss,
    latencyMs: 0.2,
    jitterMs: 0.3,
    startPhase: 'member',
    onEvent,
    ...(timing ? { timing } : {}),
  });
  const totalMs = WARMUP_MS + p.steadyS * 1000 + p.trials * (TRIAL_MS + 1_000) + 10_000;
  if (disturbed) {
    for (let t = WARMUP_MS + 500; t < totalMs; t += DISTURB_EVERY_MS) {
      if (p.disturb === 'stall') {
        sim.at(t, () => sim.stop(disturbed));
        sim.at(t + DISTURB_FOR_MS, () => sim.resume(disturbed));
      } else {
        sim.at(t, () => sim.block(disturbed));
        sim.at(t + DISTURB_FOR_MS, () => sim.unblock(disturbed));
      }
    }
  }
  sim.run(WARMUP_MS);
  const traffic = () =>
    names.reduce(
      (a, m) => {
        const x = sim.member(m).metrics();
        return {
          packets: a.packets + x.sent.packets + x.received.packets,
          bytes: a.bytes + x.sent.bytes + x.received.bytes,
        };
      },
      { packets: 0, bytes: 0 },
    );
  const before = traffic();
  measuring = true;
  sim.run(WARMUP_MS + p.steadyS * 1000);
  const after = traffic();
  const detect: number[] = [];
  const allKnow: number[] = [];
  let gap: number | string = '';
  const collect = (t: Trial) => {
    for (const v of t.victims) {
      const first = t.first.get(v);
      if (first !== undefined) detect.push(first - t.at);
      const all = t.all.get(v);
      allKnow.push(all !== undefined ? all - t.at : Infinity);
    }
  };
  if (p.partition) {
    const minority = names.slice(0, p.partition);
    const majority = names.slice(p.partition);
    trial = { victims: new Set(minority), at: sim.now, first: new Map(), knowing: new Map(), all: new Map() };
    for (const m of minority) killed.add(m);
    for (const a of minority) for (const b of majority) sim.cutLink(a, b);
    sim.run(sim.now + TRIAL_MS);
    collect(trial);
    // Per minority member: its fence must come before the majority's first declaration of it.
    gap = Math.min(...minority.map((m) => (trial!.first.get(m) ?? Infinity) - (fencedAt.get(m) ?? Infinity)));
    if (Number.isNaN(gap)) gap = 'none fenced, none declared';
    trial = undefined;
  }
  let pick = seed;
  for (let t = 0; t < p.trials; t++) {
    let victim: string;
    do {
      pick = (pick * 1103515245 + 12345) % 2 ** 31;
      victim = names[pick % p.n]!;
    } while (victim === disturbed);
    const at = sim.now;
    trial = { victims: new Set([victim]), at, first: new Map(), knowing: new Map(), all: new Map() };
    killed.add(victim);
    sim.kill(victim);
    sim.run(at + TRIAL_MS);
    collect(trial);
    trial = undefined;
    // Back it comes, a new process (higher incarnation), through the real join handshake.
    sim.start(victim, names, 1 + t, 'joining');
    sim.run(sim.now + 1_000);
    killed.delete(victim);
  }
  const memberHours = (p.n * (sim.now - WARMUP_MS)) / 3_600_000;
  const steadyS = Math.max(p.steadyS, 1e-9);
  return {
    scenario: p.label,
    members: p.n,
    'detect p50 ms': Math.round(quantile(detect, 0.5)),
    'detect p99 ms': Math.round(quantile(detect, 0.99)),
    'all know p50 ms': Math.round(quantile(allKnow, 0.5)),
    'all know p99 ms': Math.round(quantile(allKnow, 0.99)),
    trials: p.partition ?? p.trials,
    'false suspicions /member-h': Number((falseSuspicions / memberHours).toFixed(3)),
    'false deaths': falseDeaths,
    'member-hours': Number(memberHours.toFixed(1)),
    'sent+recv pkts/s per member': p.steadyS
      ? Number(((after.packets - before.packets) / p.n / steadyS).toFixed(1))
      : NaN,
    'sent+recv bytes/s per member': p.steadyS
      ? Math.round((after.bytes - before.bytes) / p.n / steadyS)
      : NaN,
    'fence gap min ms': typeof gap === 'number' ? Math.round(gap) : gap,
    'wall s': Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

const rows: Row[] = [];
for (const p of plans) {
  const scale = (x: number, o: number | undefined) => (o === undefined || x === 0 ? x : o);
  const row = run(
    { ...p, steadyS: scale(p.steadyS, steadyOverride), trials: scale(p.trials, trialsOverride) },
    20_261_201 + p.n,
  );
  console.error(`  ${p.label}, ${p.n} members done in ${row['wall s']} s`);
  rows.push(row);
}
console.log(
  `membership simulation${timing ? ` (timing ${JSON.stringify(timing)})` : ''}: random loss on every datagram, 0.2-0.5 ms latency; packets/bytes are sent plus received per member in the steady window; false deaths are declarations of members that were not killed, over the steady window and the trials; p99 is nearest-rank over the trials (= the worst one below 100 trials)`,
);
console.table(rows);
