// Runs the e2e run's shared set-up and tear-down in a plain Node process (jest's global hooks
// cannot load this package's ESM TypeScript modules). Invoked by jest-global-setup/teardown:
//   e2e-session.ts setup <owner-pid>     -> prints one JSON line with the environment for tests
//   e2e-session.ts teardown <dir>
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyClusterManifests } from './cluster-setup.js';
import { startControlPlane } from './control-plane.js';
import { claimLab, releaseLab } from './owner.js';
import { repoRoot } from './paths.js';
import { stopAllRecorded } from './processes.js';
import { destroyTopology } from './topology.js';

const progress = (line: string): void => {
  process.stderr.write(`[e2e] ${line}\n`);
};

/**
 * Scenario tests start the components from their `dist/`; a stale build would test old code.
 * Best effort (METALLB_TS_E2E_BUILD=0 skips it): a failed build is reported, and the tests that
 * need the components then fail with the launcher's "missing" or with the old behaviour.
 */
function buildComponents(): void {
  if (process.env.METALLB_TS_E2E_BUILD === '0') return;
  progress('building @metallb-ts/controller and @metallb-ts/speaker (METALLB_TS_E2E_BUILD=0 skips)');
  const r = spawnSync(
    'pnpm',
    ['--filter', '@metallb-ts/controller...', '--filter', '@metallb-ts/speaker...', 'build'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 5 * 60_000,
    },
  );
  if (r.status !== 0)
    progress(
      `WARNING: component build failed (exit ${r.status}); dist/ may be stale:\n${(r.stdout ?? '').slice(-2000)}${r.stderr ?? ''}`,
    );
}

async function setup(ownerPid: number): Promise<void> {
  buildComponents();
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
