// The lab a benchmark runs in: its own folder, the lab claimed, a control plane with the cluster
// manifests, the process lab (components started unless told otherwise), and on the way out
// whatever happened: a dump on failure, every recorded process stopped, the lab released and the
// folder removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyClusterManifests } from './cluster-setup.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { Lab } from './lab.js';
import { claimLab, releaseLab } from './owner.js';
import { stopAllRecorded } from './processes.js';

export interface BenchLab {
  readonly dir: string;
  readonly cp: ControlPlane;
  readonly lab: Lab;
}

export async function withBenchLab(
  log: (line: string) => void,
  body: (b: BenchLab) => Promise<void>,
  o: { readonly components?: boolean } = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-bench-'));
  await claimLab('lab', dir, { progress: log });
  let lab: Lab | undefined;
  try {
    // Inside the try: a control plane that fails half-way must still be stopped and the lab released.
    const cp = await startControlPlane({ dir, progress: log });
    await applyClusterManifests(cp, log);
    lab = await Lab.start({ cp, progress: log, components: o.components ?? true });
    lab.assertComponentsStarted();
    await body({ dir, cp, lab });
  } catch (e) {
    if (lab) log(await lab.dump().catch(() => 'dump failed'));
    throw e;
  } finally {
    await lab?.stop().catch(() => undefined);
    // Everything the folder recorded, the control plane included (also one that started half-way).
    await stopAllRecorded(dir).catch(() => undefined);
    releaseLab(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
