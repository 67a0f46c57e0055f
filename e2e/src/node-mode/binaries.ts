// Where the kubelet lab's binaries are: the Kubernetes ones beside the control plane
// (build-control-plane.sh), containerd in its own cache folder (build-node-runtime.sh).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultBinDir, e2eRoot } from '../paths.js';

/** The containerd version pinned in e2e/tools/containerd/go.mod. */
export function containerdVersion(): string {
  const gomod = readFileSync(join(e2eRoot, 'tools', 'containerd', 'go.mod'), 'utf8');
  const m =
    /^require github\.com\/containerd\/containerd\/v2 (v\S+)/m.exec(gomod) ??
    /^\s*github\.com\/containerd\/containerd\/v2 (v\S+)/m.exec(gomod);
  if (!m?.[1])
    throw new Error('e2e/tools/containerd/go.mod names no github.com/containerd/containerd/v2 version');
  return m[1];
}

export function containerdBinDir(): string {
  const cache = process.env.METALLB_TS_CACHE ?? join(homedir(), '.cache', 'metallb-ts');
  return join(cache, `containerd-${containerdVersion()}`, 'bin');
}

/** Every binary the kubelet lab needs, with the script that makes it when it is missing. */
export function missingNodeBinaries(): string[] {
  const missing: string[] = [];
  for (const b of ['kubelet', 'kube-proxy', 'kube-scheduler'])
    if (!existsSync(join(defaultBinDir(), b)))
      missing.push(`${join(defaultBinDir(), b)} (bash e2e/scripts/build-control-plane.sh)`);
  for (const b of ['containerd', 'containerd-shim-runc-v2'])
    if (!existsSync(join(containerdBinDir(), b)))
      missing.push(`${join(containerdBinDir(), b)} (bash e2e/scripts/build-node-runtime.sh)`);
  for (const f of [
    '/usr/sbin/runc',
    '/usr/lib/cni/bridge',
    '/usr/lib/cni/host-local',
    '/usr/lib/cni/portmap',
    '/usr/bin/docker-registry',
  ])
    if (!existsSync(f)) missing.push(`${f} (bash scripts/setup.sh installs the Debian package)`);
  return missing;
}
