// The soak in a lab of its own: control plane, network, components; settings from the environment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyClusterManifests } from '../src/cluster-setup.js';
import { startControlPlane } from '../src/control-plane.js';
import { Lab } from '../src/lab.js';
import { claimLab, releaseLab } from '../src/owner.js';
import { stopAllRecorded } from '../src/processes.js';
import { destroyTopology } from '../src/topology.js';
import { DEFAULT_WEIGHTS, type OpWeights } from './ops.js';
import { seedFrom } from './rng.js';
import { runSoak, type SoakReport } from './soak.js';

const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);

/**
 * The operation mix: DEFAULT_WEIGHTS, then SOAK_WEIGHTS (`family=weight,...`, e.g.
 * `apiserver=0.3,etcd=0.3`), then the families named in SOAK_SKIP (comma-separated, e.g.
 * `link,etcd`) switched off. Keys are those of OpWeights.
 */
export function weightsFrom(env: NodeJS.ProcessEnv = process.env): OpWeights {
  const weights: OpWeights = { ...DEFAULT_WEIGHTS };
  const known = (setting: string, k: string): keyof OpWeights => {
    if (!(k in weights))
      throw new Error(
        `${setting}: unknown operation family ${JSON.stringify(k)}; known: ${Object.keys(weights).join(', ')}`,
      );
    return k as keyof OpWeights;
  };
  const list = (v: string | undefined): string[] =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  for (const pair of list(env.SOAK_WEIGHTS)) {
    const [k = '', v = ''] = pair.split('=').map((s) => s.trim());
    const w = Number(v);
    if (v === '' || !Number.isFinite(w) || w < 0)
      throw new Error(
        `SOAK_WEIGHTS: ${JSON.stringify(pair)} is not family=weight with a weight >= 0 (e.g. etcd=0.3)`,
      );
    weights[known('SOAK_WEIGHTS', k)] = w;
  }
  for (const k of list(env.SOAK_SKIP)) weights[known('SOAK_SKIP', k)] = 0;
  return weights;
}

export function soakSettings(env: NodeJS.ProcessEnv = process.env) {
  const int = (name: string, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`${name}=${JSON.stringify(v)} is not a positive integer`);
    return n;
  };
  return {
    seed: seedFrom(env),
    steps: int('SOAK_STEPS', 300),
    maxDurationMs: env.SOAK_DURATION_S ? int('SOAK_DURATION_S', 1) * 1000 : undefined,
    strictOutage: env.SOAK_STRICT_OUTAGE !== '0',
    keepGoing: env.SOAK_KEEP_GOING === '1',
    weights: weightsFrom(env),
  };
}

export function reportTable(r: SoakReport): string {
  const rows = [
    ['seed', String(r.seed)],
    ['steps run', String(r.stepsRun)],
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
    ['violating steps', String(r.failures.length)],
    ['refused by the API', String(r.refused)],
    [
      'outage withdrawals',
      r.outageWithdrawals.map((w) => `step ${w.step}: ${w.ips.join(' ')}`).join('; ') || 'none',
    ],
    [
      'supervised restarts',
      r.supervisedRestarts.map((x) => `step ${x.step}: ${x.name}`).join('; ') || 'none',
    ],
    ['settle median / max', `${r.settleMs.median} / ${r.settleMs.max} ms`],
    [
      'time in ops / API settle / wire',
      [r.spentMs.op, r.spentMs.api, r.spentMs.wire].map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' / '),
    ],
    ...Object.entries(r.chaosMs).map(([k, xs]) => [`${k} (ms, each)`, xs.join(' ')]),
    ...Object.entries(r.opCounts)
      .sort()
      .map(([k, n]) => [`ops ${k}`, String(n)]),
    ['replay', r.replay],
  ];
  const w = Math.max(...rows.map(([k]) => k!.length));
  return rows.map(([k, v]) => `${k!.padEnd(w)}  ${v}`).join('\n');
}

/** Runs the soak in a lab of its own (waits for the lab); returns the report. */
export async function soakInOwnLab(settings: ReturnType<typeof soakSettings>): Promise<SoakReport> {
  const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-soak-'));
  await claimLab('lab', dir, { progress: log });
  let lab: Lab | undefined;
  try {
    const cp = await startControlPlane({ dir, progress: log });
    await applyClusterManifests(cp, log);
    const componentOptions = { logLevel: 'info' as const };
    lab = await Lab.start({ cp, progress: log, componentOptions });
    const report = await runSoak({ lab, ...settings, componentOptions, log });
    if (report.failures.length > 0 && !settings.keepGoing) log(`lab at the failure:\n${await lab.dump(30)}`);
    return report;
  } finally {
    await lab?.stop().catch(() => undefined);
    await stopAllRecorded(dir);
    await destroyTopology();
    releaseLab(dir);
    if (process.env.METALLB_TS_KEEP_LAB_DIR === '1') log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
