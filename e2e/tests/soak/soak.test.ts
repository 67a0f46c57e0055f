import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { labControlPlane } from '../../src/control-plane.js';
import { Lab } from '../../src/lab.js';
import { reportTable, weightsFrom } from '../../soak/own-lab.js';
import { seedFrom } from '../../soak/rng.js';
import { runSoak } from '../../soak/soak.js';

/*
 * The soak's short profile against the real lab: 120 random operations (Services, pools,
 * advertisements, malformed objects, controller/speaker restarts, link flaps) with a forced
 * kube-apiserver restart and a forced etcd restart, every invariant checked after every step,
 * and no announced address may go unanswered during the restarts (SOAK_STRICT_OUTAGE=0 only
 * reports that). A failure prints the seed; SOAK_SEED=<seed> replays the same operations.
 */

jest.setTimeout(15 * 60_000);
let lab: Lab;
const lines: string[] = [];

beforeAll(async () => {
  lab = await Lab.start({ cp: labControlPlane(), componentOptions: { logLevel: 'info' } });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
}, 120_000);

describe('chaos soak (short profile)', () => {
  it('keeps every invariant through 120 random steps, a kube-apiserver restart and an etcd restart', async () => {
    const seed = seedFrom();
    const steps = Number(process.env.SOAK_STEPS ?? 120);
    const report = await runSoak({
      lab,
      seed,
      steps,
      forced: new Map([
        [Math.floor(steps / 3), { kind: 'apiserver-restart' }],
        [Math.floor((2 * steps) / 3), { kind: 'etcd-restart' }],
      ]),
      // The two control-plane restarts are forced below; random ones would double the run time.
      weights: { ...weightsFrom(), apiserver: 0, etcd: 0 },
      strictOutage: process.env.SOAK_STRICT_OUTAGE !== '0',
      componentOptions: { logLevel: 'info' },
      log: (l) => lines.push(l),
    });
    process.stderr.write(`${reportTable(report)}\n`);
    const failure = report.failures[0];
    if (failure) {
      throw new Error(
        `soak seed ${seed} violated at step ${failure.step} (replay: ${report.replay}):\n${failure.op}\n` +
          `${failure.violations.map((v) => `[${v.rule}] ${v.detail}`).join('\n')}\n${failure.state}\n` +
          `--- last steps ---\n${lines.slice(-15).join('\n')}\n--- lab ---\n${await lab.dump(30)}`,
      );
    }
    expect(report.stepsRun).toBe(steps);
    expect(report.opCounts['apiserver-restart']).toBeGreaterThanOrEqual(1);
    expect(report.opCounts['etcd-restart']).toBeGreaterThanOrEqual(1);
  });
});
