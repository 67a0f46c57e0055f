import { spawnSync } from 'node:child_process';
import { repoRoot } from './paths.js';

/**
 * Builds the controller, speaker and operator binaries (and what they import) through turbo, so a build
 * that is already up to date is a cache hit and every caller can simply ask for one. Labs and e2e
 * runs start the components from their `dist/`: a stale build would run old code.
 * `output`: 'inherit' shows turbo's output; 'capture' returns it (for callers whose stdout is data).
 */
export function buildComponents(output: 'inherit' | 'capture'): { ok: boolean; log: string } {
  const r = spawnSync(
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'build',
      '--filter=@metallb-ts/controller...',
      '--filter=@metallb-ts/speaker...',
      '--filter=@metallb-ts/operator...',
      '--output-logs=errors-only',
    ],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: output === 'inherit' ? 'inherit' : 'pipe',
      timeout: 5 * 60_000,
    },
  );
  return { ok: r.status === 0, log: `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4000) };
}
