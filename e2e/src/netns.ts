import { writeFileSync } from 'node:fs';
import { run, runOk, type RunOptions, type RunResult } from './run.js';

/** Runs argv inside network namespace `ns` (never throws; see `nsExecOk`). */
export function nsExec(ns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], options);
}

/** Runs argv inside `ns`; throws with the command and its output unless it exits 0. */
export function nsExecOk(ns: string, argv: readonly string[], options: RunOptions = {}): Promise<string> {
  return runOk(['ip', 'netns', 'exec', ns, ...argv], options);
}

export async function listNetns(): Promise<string[]> {
  const r = await run(['ip', '-j', 'netns', 'list']);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  try {
    return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
  } catch {
    return [];
  }
}

export interface LinkInfo {
  readonly ifname: string;
  readonly address?: string;
  readonly operstate?: string;
  readonly flags?: string[];
  readonly master?: string;
}

/** Links of the host (ns undefined) or of a namespace. */
export async function listLinks(ns?: string): Promise<LinkInfo[]> {
  const r = await run(ns ? ['ip', '-n', ns, '-j', 'link', 'show'] : ['ip', '-j', 'link', 'show']);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  try {
    return JSON.parse(r.stdout) as LinkInfo[];
  } catch {
    return [];
  }
}

/** Writes a sysctl of the host (used for per-interface host knobs; names may contain dashes). */
export function writeHostSysctl(path: string, value: string): void {
  writeFileSync(`/proc/sys/${path}`, value);
}

/** Sets sysctls inside a namespace (`key=value` pairs in sysctl's dotted form). */
export async function nsSysctl(ns: string, settings: Record<string, string>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await nsExecOk(ns, ['sysctl', '-q', '-w', ...args]);
}

/** PIDs of processes living in namespace `ns` (empty when it does not exist). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}
