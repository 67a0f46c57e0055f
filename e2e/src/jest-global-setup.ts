// jest's global hooks load files through CommonJS, so this file imports only node built-ins and
// runs the real work (e2e-session.ts) in a child Node process with tsx.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default async function globalSetup(globalConfig: { rootDir: string }): Promise<void> {
  const repo = globalConfig.rootDir;
  const here = join(repo, 'e2e', 'src');
  console.log('\n[e2e] building the control plane if needed (bash e2e/scripts/build-control-plane.sh)');
  const build = spawnSync('bash', [join(repo, 'e2e', 'scripts', 'build-control-plane.sh')], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error(`build-control-plane.sh failed (exit ${build.status})`);
  const session = spawnSync(
    process.execPath,
    [
      '--import',
      join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
      join(here, 'e2e-session.ts'),
      'setup',
      String(process.pid),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 20 * 60_000 },
  );
  if (session.status !== 0)
    throw new Error(`e2e set-up failed (exit ${session.status}); see the [e2e] lines above`);
  const lastLine = session.stdout.trim().split('\n').pop() ?? '{}';
  const env = JSON.parse(lastLine) as Record<string, string>;
  // Test workers inherit the environment of this process.
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  console.log(`[e2e] control plane up: ${env.METALLB_TS_APISERVER} (dir ${env.METALLB_TS_LAB_DIR})`);
}
