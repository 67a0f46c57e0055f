import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';

// Resolved from this file, so it works from src (tsx, jest) and from dist alike.
const here = dirname(fileURLToPath(import.meta.url));

/** The e2e package folder (`<repo>/e2e`). */
export const e2eRoot = resolve(here, '..');
/** The repository root. */
export const repoRoot = resolve(e2eRoot, '..');

/** Kubernetes version the control plane is built for (pinned in `e2e/tools/K8S_VERSION`). */
export function k8sVersion(): string {
  return readFileSync(join(e2eRoot, 'tools', 'K8S_VERSION'), 'utf8').trim();
}

/** Where `e2e/scripts/build-control-plane.sh` caches the binaries. */
export function defaultBinDir(): string {
  const cache = process.env.METALLB_TS_CACHE ?? join(homedir(), '.cache', 'metallb-ts');
  return join(cache, k8sVersion(), 'bin');
}

/** The lab CLI's working folder. */
export function defaultLabDir(): string {
  return process.env.METALLB_TS_LAB_DIR ?? '/tmp/metallb-ts-lab';
}

/**
 * One owner file for the whole machine: the lab and the e2e run use the same namespace names,
 * bridges and ports, so only one of them may exist at a time.
 */
export const ownerFile = '/tmp/metallb-ts-lab.owner.json';

/** Absolute path of tsx's ESM loader, for `node --import <loader> file.ts`. */
export function tsxLoader(): string {
  return join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs');
}

/** Node argv that runs a TypeScript file of this package (`src/x.ts`) or its compiled twin. */
export function nodeArgvFor(srcName: string): string[] {
  const fromSrc = here.endsWith('src');
  if (fromSrc) return [process.execPath, '--import', tsxLoader(), join(here, `${srcName}.ts`)];
  return [process.execPath, join(here, `${srcName}.js`)];
}
