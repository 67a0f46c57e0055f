// The seeded chaos soak: one operation per step (ops.ts), then wait until the cluster settles
// and check every invariant (invariants.ts) against the API server and the wire. A failure names
// the seed, the step and the state; the same seed and step count replay the same operations.
import { controllerName, startSpeaker, type ComponentOptions } from '../src/components.js';
import type { Lab } from '../src/lab.js';
import { sleep } from '../src/wait-for.js';
import { soakApi } from './api.js';
import { Driver, type OpResult } from './driver.js';
import { checkInvariants, expectedOnWire, type Truth, type Violation } from './invariants.js';
import { emptyModel, servedPools, type Model } from './model.js';
import { applyToModel, describeOp, nextOp, touchedBy, type Chaos, type Op, type OpWeights } from './ops.js';
import { createRng } from './rng.js';
import { exitedComponents, PLANNED_EXIT } from './supervise.js';
import { FailureEvents, probeWire, readApiTruth } from './truth.js';

export interface SoakOptions {
  readonly lab: Lab;
  readonly seed: number;
  readonly steps: number;
  /** Stop starting new steps after this long (ms), whatever `steps` says. */
  readonly maxDurationMs?: number;
  /** Operations forced at given steps (e.g. one kube-apiserver and one etcd restart). */
  readonly forced?: ReadonlyMap<number, Chaos>;
  readonly weights?: OpWeights;
  /**
   * Count an address going unanswered during a kube-apiserver/etcd restart as a violation
   * (true) or only as a finding (false).
   */
  readonly strictOutage: boolean;
  /** Keep going after a violating step (the long profile); default: stop at the first. */
  readonly keepGoing?: boolean;
  readonly componentOptions?: ComponentOptions;
  readonly log?: (line: string) => void;
}

export interface StepFailure {
  readonly step: number;
  readonly op: string;
  readonly violations: readonly Violation[];
  readonly state: string;
}

export interface SoakReport {
  readonly seed: number;
  readonly stepsRun: number;
  readonly durationMs: number;
  readonly opCounts: Readonly<Record<string, number>>;
  readonly refused: number;
  readonly failures: readonly StepFailure[];
  /** Withdrawals during control-plane restarts (violations only when `strictOutage`). */
  readonly outageWithdrawals: readonly { step: number; op: string; ips: readonly string[] }[];
  readonly settleMs: { readonly median: number; readonly max: number };
  /** Where the run's time went, summed over its steps: performing the operations, waiting for
   * the API view to settle, probing the wire. */
  readonly spentMs: { readonly op: number; readonly api: number; readonly wire: number };
  readonly chaosMs: Readonly<Record<string, number[]>>;
  /** Planned exits (see supervise.ts) the soak restarted, as a kubelet would. */
  readonly supervisedRestarts: readonly { step: number; name: string }[];
  /** How to run this soak again. */
  readonly replay: string;
}

const opKey = (op: Op): string =>
  op.kind === 'chaos'
    ? `${op.chaos.kind}${'signal' in op.chaos ? `:${op.chaos.signal}` : ''}`
    : op.kind === 'service-apply' || op.kind === 'pool-apply' || op.kind === 'advert-apply'
      ? `${op.kind}:${op.why.split(' ')[0]}`
      : op.kind;

function settleBudgetMs(op: Op): number {
  if (op.kind !== 'chaos') return 20_000;
  return op.chaos.kind === 'speaker-restart' || op.chaos.kind === 'link-flap' ? 25_000 : 60_000;
}

const apiSignature = (t: Pick<Truth, 'services'>): string =>
  JSON.stringify(
    t.services.map((s) => [
      s.uid,
      s.type,
      s.ingress,
      s.annotations['metallb.io/ip-allocated-from-pool'],
      s.hasEndpoints,
    ]),
  );

/** Everything a failing step should print. */
export function describeState(model: Model, truth: Truth | undefined): string {
  const lines = ['model pools (served):'];
  const served = servedPools(model);
  for (const p of model.pools.values())
    lines.push(
      `  ${p.name} [${p.kind}] entries=${JSON.stringify(p.entries)} served=${JSON.stringify(served.get(p.name) ?? null)} autoAssign=${p.autoAssign}`,
    );
  lines.push('model advertisements:');
  for (const a of model.adverts.values()) lines.push(`  ${a.name} pools=${JSON.stringify(a.pools)}`);
  lines.push('services (cluster):');
  for (const s of truth?.services ?? [])
    lines.push(
      `  ${s.name} ${s.type}${s.lbClass ? ` class=${s.lbClass}` : ''} etp=${s.etp} ports=${s.ports.map((p) => p.port).join('/')} ingress=${s.ingress.join(',') || '-'}${s.hasEndpoints ? '' : ' endpoints=none'} annotations=${JSON.stringify(s.annotations)}${(truth?.failures.get(s.uid) ?? []).length ? ` failures=${JSON.stringify(truth?.failures.get(s.uid))}` : ''}`,
    );
  if (truth?.wire) {
    lines.push('wire (who answers):');
    for (const [ip, macs] of truth.wire) lines.push(`  ${ip}: ${macs.join(' ') || 'nobody'}`);
  }
  return lines.join('\n');
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const rng = createRng(o.seed);
  const api = soakApi(o.lab.cp);
  const failureEvents = new FailureEvents(api);
  const nodeMacs = new Set(o.lab.nodeMacs.values());
  let model = emptyModel();
  let prev: Truth | undefined;
  const driver = new Driver({
    lab: o.lab,
    api,
    componentOptions: o.componentOptions ?? {},
    announced: () => (prev ? expectedOnWire(model, prev.services).announced : []),
    log,
  });
  const opCounts: Record<string, number> = {};
  const chaosMs: Record<string, number[]> = {};
  const failures: StepFailure[] = [];
  const outageWithdrawals: { step: number; op: string; ips: string[] }[] = [];
  const settles: number[] = [];
  const supervisedRestarts: { step: number; name: string }[] = [];
  let refused = 0;
  const spentMs = { op: 0, api: 0, wire: 0 };
  const t0 = Date.now();
  let step = 0;
  const replay = `SOAK_SEED=${o.seed} SOAK_STEPS=${o.steps}`;
  log(`soak: seed ${o.seed}, ${o.steps} steps (replay: ${replay})`);
  try {
    for (step = 1; step <= o.steps; step++) {
      if (o.maxDurationMs !== undefined && Date.now() - t0 > o.maxDurationMs) {
        log(`soak: duration limit ${o.maxDurationMs} ms reached after ${step - 1} steps`);
        break;
      }
      const forced = o.forced?.get(step);
      const op: Op = forced ? { kind: 'chaos', chaos: forced } : nextOp(rng, model, o.weights);
      const line = describeOp(op);
      const key = opKey(op);
      opCounts[key] = (opCounts[key] ?? 0) + 1;
      let result: OpResult;
      const opStart = Date.now();
      try {
        result = await driver.perform(op);
        spentMs.op += Date.now() - opStart;
      } catch (e) {
        throw new Error(
          `step ${step} (${line}) failed to run: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      if (result.refused) {
        refused++;
        log(`step ${step}: ${line} -> refused: ${result.refused}`);
      } else log(`step ${step}: ${line}`);
      if (result.chaosMs !== undefined) (chaosMs[key] ??= []).push(result.chaosMs);
      model = applyToModel(model, op, result.refused !== undefined);

      const ts = Date.now();
      const restart = async (name: string, crashed = false) => {
        supervisedRestarts.push({ step, name: crashed ? `${name} (crashed)` : name });
        const why = crashed ? 'crashed' : `exited on purpose (${PLANNED_EXIT})`;
        log(`step ${step}: ${name} ${why}; restarting it as a kubelet would`);
        if (name === controllerName) await driver.startController();
        else {
          const r = await startSpeaker(
            o.lab.cp,
            o.lab.dir,
            name.replace(/^speaker-/, ''),
            o.componentOptions ?? {},
          );
          if (!r.ok) throw new Error(`restarting ${name}: ${r.error}`);
        }
      };
      const { truth, violations, wireMs } = await settle(
        o.lab,
        () => readApiTruth(api, failureEvents),
        model,
        prev,
        new Set(touchedBy(op)),
        nodeMacs,
        settleBudgetMs(op),
        restart,
      );
      settles.push(Date.now() - ts);
      spentMs.wire += wireMs;
      spentMs.api += Date.now() - ts - wireMs;

      const all = [...violations];
      if (result.withdrawn && result.withdrawn.length > 0) {
        outageWithdrawals.push({ step, op: line, ips: [...result.withdrawn] });
        const detail = `addresses went unanswered during ${key} while their data path was healthy: ${result.withdrawn.join(', ')}`;
        if (o.strictOutage) all.push({ rule: 'arp-owners', detail });
        else log(`step ${step}: FINDING ${detail}`);
      }
      // A crash is this step's violation; the component is then started again, as a kubelet
      // would, so the steps after it are checked on their own (not all blamed on one crash).
      for (const c of truth.crashed) await restart(c.name, true);
      if (all.length > 0) {
        const state = describeState(model, truth);
        failures.push({ step, op: line, violations: all, state });
        log(
          `soak: VIOLATION at step ${step} (${replay}; op: ${line}):\n${all.map((v) => `  [${v.rule}] ${v.detail}`).join('\n')}\n${state}`,
        );
        if (!o.keepGoing) break;
      }
      prev = truth;
    }
  } finally {
    api.close();
  }
  const sorted = [...settles].sort((a, b) => a - b);
  return {
    seed: o.seed,
    stepsRun: Math.min(step, o.steps),
    durationMs: Date.now() - t0,
    opCounts,
    refused,
    failures,
    outageWithdrawals,
    settleMs: { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 },
    spentMs,
    chaosMs,
    supervisedRestarts,
    replay,
  };
}

/** How often the settle loop reads the API (and, once stable, the wire) again. */
const SETTLE_POLL_MS = 100;

/**
 * Polls until the API view is stable (two equal reads) and every invariant holds, or the budget
 * runs out; returns the last truth, what it violates and how long the wait for wire probes took.
 * A crash ends the wait at once. A read that shows no API violation starts the wire probe at
 * once, beside the wait for the read that may confirm it: when that read finds the same view,
 * the probe saw the wire under it, and its answer is used (a probe that shows a violation is
 * never final before the deadline, so an early one only saves time).
 */
async function settle(
  lab: Lab,
  readTruth: () => ReturnType<typeof readApiTruth>,
  model: Model,
  prev: Truth | undefined,
  touched: ReadonlySet<string>,
  nodeMacs: ReadonlySet<string>,
  budgetMs: number,
  restart: (name: string) => Promise<void>,
): Promise<{ truth: Truth; violations: Violation[]; wireMs: number }> {
  let deadline = Date.now() + budgetMs;
  let lastSig = '';
  let wireMs = 0;
  /** A probe started under the API view `sig`, awaiting the read that confirms that view. */
  let early: { sig: string; wire: Promise<Map<string, string[]>> } | undefined;
  const startProbe = (services: Truth['services']) => {
    const { announced, silent } = expectedOnWire(model, services);
    const wire = probeWire(lab, [...announced, ...silent]);
    wire.catch(() => undefined); // awaited only when used; its failure then surfaces there
    return wire;
  };
  for (;;) {
    const exited = exitedComponents(lab);
    for (const e of exited.filter((x) => x.planned)) {
      await restart(e.name);
      deadline = Math.max(deadline, Date.now() + budgetMs);
    }
    const crashed = exited.filter((x) => !x.planned).map(({ name, log }) => ({ name, log }));
    const apiTruth = await readTruth().catch(() => undefined);
    if (apiTruth) {
      const sig = apiSignature(apiTruth);
      const stable = sig === lastSig;
      lastSig = sig;
      const pending: Truth = { ...apiTruth, crashed };
      const apiViolations = checkInvariants({ model, prev, now: pending, touched, nodeMacs });
      const expired = Date.now() >= deadline;
      if (crashed.length > 0 || (stable && apiViolations.length === 0) || expired) {
        const probeStart = Date.now();
        const wire = await (early?.sig === sig ? early.wire : startProbe(apiTruth.services));
        early = undefined;
        wireMs += Date.now() - probeStart;
        const truth: Truth = { ...pending, wire };
        const violations = checkInvariants({ model, prev, now: truth, touched, nodeMacs });
        if (violations.length === 0 || crashed.length > 0 || Date.now() >= deadline)
          return { truth, violations, wireMs };
      } else if (apiViolations.length === 0 && early?.sig !== sig) {
        early = { sig, wire: startProbe(apiTruth.services) };
      }
    } else if (Date.now() >= deadline) {
      throw new Error(`the API server did not answer for ${budgetMs} ms`);
    }
    await sleep(SETTLE_POLL_MS);
  }
}
