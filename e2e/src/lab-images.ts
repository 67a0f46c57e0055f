// The lab's own pod images (pause, echo), built by e2e/scripts/build-lab-images.sh: this runs the
// script, passes its progress on and returns what its last stdout line describes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { e2eRoot } from './paths.js';

export const LAB_IMAGE_NAMES = ['pause', 'echo'] as const;
export type LabImageName = (typeof LAB_IMAGE_NAMES)[number];

export interface LabImage {
  readonly name: LabImageName;
  /** `metallb-ts/lab-<name>:<tag>`, without a registry. */
  readonly ref: string;
  readonly archive: string;
  readonly archiveBytes: number;
  readonly compressedBytes: number;
}

export interface LabBinaries {
  /** A short hash of the sources: the images' tag. */
  readonly tag: string;
  /** Folder holding the static `pause` and `echo` binaries. */
  readonly bin: string;
}

export interface LabImages extends LabBinaries {
  readonly images: readonly LabImage[];
}

const SCRIPT = join(e2eRoot, 'scripts', 'build-lab-images.sh');

function runScript(args: string[], progress: (line: string) => void): unknown {
  const r = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  for (const line of (r.stderr ?? '').split('\n')) if (line) progress(line);
  if (r.status !== 0)
    throw new Error(
      `bash ${SCRIPT} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`,
    );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`bash ${SCRIPT}: last stdout line is not JSON: ${JSON.stringify(last)}`);
  }
}

/** Builds (or finds cached) both binaries and both OCI archives under build/images/lab/. */
export function buildLabImages(progress: (line: string) => void = () => undefined): LabImages {
  return runScript([], progress) as LabImages;
}

/** Builds (or finds cached) only the static binaries; needs Go, not buildah. */
export function buildLabBinaries(progress: (line: string) => void = () => undefined): LabBinaries {
  return runScript(['--binaries-only'], progress) as LabBinaries;
}
