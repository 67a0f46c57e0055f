// The command-line tools the chart is checked with: helm (built by e2e/scripts/build-helm.sh into
// the control plane's cache) and promtool (Debian's prometheus package, scripts/setup.sh).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './binaries.js';

export const CHART = join(repoRoot, 'charts', 'metallb-ts');

export function helmPath(): string {
  const version = readFileSync(join(repoRoot, 'e2e', 'tools', 'K8S_VERSION'), 'utf8').trim();
  const cache = process.env.METALLB_TS_CACHE ?? join(homedir(), '.cache', 'metallb-ts');
  return join(cache, version, 'bin', 'helm');
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], missing: string): Run {
  if (cmd.startsWith('/') && !existsSync(cmd)) throw new Error(`${cmd} is missing: ${missing}`);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}: ${missing}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function helm(args: readonly string[]): Run {
  return run(helmPath(), args, 'build it with bash e2e/scripts/build-helm.sh (scripts/setup.sh does)');
}

export function promtool(args: readonly string[]): Run {
  return run('promtool', args, "install Debian's prometheus package (scripts/setup.sh does)");
}

/** The --set flags for `values` (dotted keys; lists as {a,b}). */
export function setFlags(values: Record<string, string | number | boolean | readonly string[]>): string[] {
  return Object.entries(values).flatMap(([k, v]) => [
    '--set',
    `${k}=${Array.isArray(v) ? `{${v.join(',')}}` : String(v)}`,
  ]);
}
