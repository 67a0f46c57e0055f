// See jest-global-setup.ts: the work happens in e2e-session.ts in a child process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default async function globalTeardown(globalConfig: { rootDir: string }): Promise<void> {
  const dir = process.env.METALLB_TS_LAB_DIR;
  if (!dir) return;
  const repo = globalConfig.rootDir;
  const here = join(repo, 'e2e', 'src');
  spawnSync(
    process.execPath,
    [
      '--import',
      join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
      join(here, 'e2e-session.ts'),
      'teardown',
      dir,
    ],
    { stdio: 'inherit', timeout: 120_000 },
  );
}
