// Gossip membership at scale, by simulation of the pure state machine (bench/simulator.ts): a
// virtual clock, 1% random loss on every datagram, 0.2-0.5 ms one-way latency, no sockets. Every
// packet is really encoded, HMAC-signed, verified and decoded.
// Per cluster size, one run: warm-up, a steady window at 1% loss (false suspicions and deaths,
// packets and bytes), then trials that each kill one member, measure the time to the first
// declaration and until every living member knows, and restart it (it rejoins).
// Run: pnpm bench membership   or   pnpm exec tsx packages/membership/bench/membership.bench.ts [maxN] [steadySeconds] [trials]
import type { MembershipEvent } from '../src/index.js';
import { Simulation, memberNames } from './simulator.js';

const maxN = Number(process.argv[2] ?? 5000);
const steadyOverride = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const trialsOverride = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const LOSS = 0.01;
const WARMUP_MS = 2_000;
const TRIAL_MS = 3_000;

/** Steady seconds and trials per size: enough member-hours, within a few minutes on one core. */
const plans = [
  { n: 10, steadyS: 1_800, trials: 40 },
  { n: 100, steadyS: 300, trials: 30 },
  { n: 1_000, steadyS: 60, trials: 12 },
  { n: 5_000, steadyS: 20, trials: 6 },
].filter((p) => p.n <= maxN);

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

interface Row {
  members: number;
  'detect p50 ms': number;
  'detect p99 ms': number;
  'all know p50 ms': number;
  'all know p99 ms': number;
  trials: number;
  'false suspicions /member-h': number;
  'false deaths /member-h': number;
  'member-hours': number;
  'pkts/s per member': number;
  'bytes/s per member': number;
  'wall s': number;
}

function runSize(n: number, steadyS: number, trials: number, seed: number): Row {
  const started = performance.now();
  const names = memberNames(n);
  const killed = new Set<string>();
  let falseSuspicions = 0;
  let falseDeaths = 0;
  let measuring = false;
  // Per trial: when the victim died, first declaration, and who knows.
  let trial: { victim: string; at: number; first?: number; knowing: Set<string>; all?: number } | undefined;
  const onEvent = (member: string, e: MembershipEvent, now: number) => {
    if (e.kind === 'member-suspected' && e.by === member && measuring && !killed.has(e.member))
      falseSuspicions++;
    if (e.kind !== 'member-dead') return;
    if (trial && e.member === trial.victim) {
      trial.first ??= now;
      trial.knowing.add(member);
      if (trial.knowing.size === n - 1) trial.all ??= now;
    } else if (e.by === member && measuring && !killed.has(e.member)) falseDeaths++;
  };
  const sim = new Simulation({
    names,
    seed,
    loss: LOSS,
    latencyMs: 0.2,
    jitterMs: 0.3,
    startPhase: 'member',
    onEvent,
  });
  sim.run(WARMUP_MS);
  const sentBefore = names.map((m) => sim.member(m).metrics().sent);
  measuring = true;
  sim.run(WARMUP_MS + steadyS * 1000);
  const sentAfter = names.map((m) => sim.member(m).metrics().sent);
  const packets = sentAfter.reduce((a, s, i) => a + s.packets - sentBefore[i]!.packets, 0);
  const bytes = sentAfter.reduce((a, s, i) => a + s.bytes - sentBefore[i]!.bytes, 0);
  const detect: number[] = [];
  const allKnow: number[] = [];
  let pick = seed;
  for (let t = 0; t < trials; t++) {
    pick = (pick * 1103515245 + 12345) % 2 ** 31;
    const victim = names[pick % n]!;
    const at = sim.now;
    trial = { victim, at, knowing: new Set() };
    killed.add(victim);
    sim.kill(victim);
    sim.run(at + TRIAL_MS);
    if (trial.first !== undefined) detect.push(trial.first - at);
    allKnow.push(trial.all !== undefined ? trial.all - at : Infinity);
    trial = undefined;
    // Back it comes, a new process (higher incarnation), through the real join handshake.
    sim.start(victim, names, 1 + t, 'joining');
    sim.run(sim.now + 1_000);
    killed.delete(victim);
  }
  const memberHours = (n * steadyS) / 3600;
  return {
    members: n,
    'detect p50 ms': Math.round(quantile(detect, 0.5)),
    'detect p99 ms': Math.round(quantile(detect, 0.99)),
    'all know p50 ms': Math.round(quantile(allKnow, 0.5)),
    'all know p99 ms': Math.round(quantile(allKnow, 0.99)),
    trials,
    'false suspicions /member-h': Number((falseSuspicions / memberHours).toFixed(3)),
    'false deaths /member-h': Number((falseDeaths / memberHours).toFixed(3)),
    'member-hours': Number(memberHours.toFixed(1)),
    'pkts/s per member': Number((packets / n / steadyS).toFixed(1)),
    'bytes/s per member': Math.round(bytes / n / steadyS),
    'wall s': Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

const rows: Row[] = [];
for (const p of plans) {
  const row = runSize(p.n, steadyOverride ?? p.steadyS, trialsOverride ?? p.trials, 20_261_201 + p.n);
  console.error(`  ${p.n} members done in ${row['wall s']} s`);
  rows.push(row);
}
console.log(
  `membership simulation: 1% loss on every datagram, 0.2-0.5 ms latency; packets/bytes are sent per member in the steady window; p99 is nearest-rank over the trials (= the worst one below 100 trials)`,
);
console.table(rows);
