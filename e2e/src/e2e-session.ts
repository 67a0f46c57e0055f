// Runs the e2e run's shared set-up and tear-down in a plain Node process (jest's global hooks
// cannot load this package's ESM TypeScript modules). Invoked by jest-global-setup/teardown:
//   e2e-session.ts setup <owner-pid>     -> prints one JSON line with the environment for tests
//   e2e-session.ts teardown <dir>
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildComponents } from './build-components.js';
import { applyClusterManifests } from './cluster-setup.js';
import { startControlPlane } from './control-plane.js';
import { claimLab, releaseLab } from './owner.js';
import { stopAllRecorded } from './processes.js';
import { destroyTopology } from './topology.js';

const progress = (line: string): void => {
  process.stderr.write(`[e2e] ${line}\n`);
};

/** Best effort: a failed build is reported, and the tests needing the components then fail. */
function build(): void {
  progress('building @metallb-ts/controller and @metallb-ts/speaker (turbo; up to date = cache hit)');
  const r = buildComponents('capture');
  if (!r.ok) progress(`WARNING: component build failed; dist/ may be stale:\n${r.log}`);
}

async function setup(ownerPid: number): Promise<void> {
  build();
  const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-e2e-'));
  await claimLab('e2e', dir, { progress }, ownerPid);
  try {
    const cp = await startControlPlane({ dir, progress });
    await applyClusterManifests(cp, progress);
    const env = {
      METALLB_TS_ADMIN_KUBECONFIG: cp.adminKubeconfig,
      METALLB_TS_LAB_DIR: dir,
      METALLB_TS_APISERVER: cp.server.local,
    };
    process.stdout.write(`${JSON.stringify(env)}\n`);
  } catch (e) {
    await teardown(dir);
    throw e;
  }
}

async function teardown(dir: string): Promise<void> {
  const stopped = await stopAllRecorded(dir);
  progress(`stopped ${stopped.length} process(es)`);
  await destroyTopology();
  releaseLab(dir);
  if (process.env.METALLB_TS_KEEP_LAB_DIR === '1') progress(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const [verb, arg] = process.argv.slice(2);
try {
  if (verb === 'setup') await setup(Number(arg ?? process.ppid));
  else if (verb === 'teardown' && arg) await teardown(arg);
  else {
    process.stderr.write('usage: e2e-session.ts setup <owner-pid> | teardown <dir>\n');
    process.exit(2);
  }
} catch (e) {
  process.stderr.write(`[e2e] ${verb} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
