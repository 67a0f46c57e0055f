// The kubelet lab: the user's path on real parts. A control plane with kube-scheduler, three node
// namespaces each running containerd, a kubelet and kube-proxy, an image registry on the
// management bridge holding our images, then `helm install` of our chart, `MetalLB/metallb`, and
// a demo Service whose backends are real pods.
import { MGMT_HOST_IP, startControlPlane, type ControlPlane } from '../control-plane.js';
import { pushShippedImages, startRegistry, type PushedImage, type Registry } from '../registry.js';
import { createTopology, labNode } from '../topology.js';
import { missingNodeBinaries } from './binaries.js';
import type { NodePlan } from './node-config.js';
import { killNode } from './node-teardown.js';
import { restartNode, startNodes, waitNodesReady } from './nodes.js';

/** The lab registry listens on the management bridge only. */
export const REGISTRY_PORT = 5000;

export interface KubeletLab {
  readonly dir: string;
  readonly cp: ControlPlane;
  readonly registry: Registry;
  /** Every image in the registry, by short name (`operator`, `lab-echo`, ...). */
  readonly images: ReadonlyMap<string, PushedImage>;
  readonly plans: readonly NodePlan[];
}

export interface StartKubeletLabOptions {
  readonly dir: string;
  readonly progress?: (line: string) => void;
}

/** `host:port/repo:tag` → repository and tag (the port's colon is not the tag's). */
export function splitImageRef(ref: string): { repository: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) throw new Error(`image reference ${JSON.stringify(ref)} has no tag`);
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** The image of `name` in the lab registry, or an error naming what the registry holds. */
export function imageOf(lab: Pick<KubeletLab, 'images'>, name: string): PushedImage {
  const image = lab.images.get(name);
  if (!image)
    throw new Error(`no image ${name} in the lab registry; it holds ${[...lab.images.keys()].join(', ')}`);
  return image;
}

/**
 * Starts everything up to Ready nodes: the control plane, the network, the registry with our
 * images, containerd + kubelet + kube-proxy per node. `pnpm images` and
 * `build-lab-images.sh` must have run (the lab CLI runs them).
 */
export async function startKubeletLab(o: StartKubeletLabOptions): Promise<KubeletLab> {
  const progress = o.progress ?? (() => undefined);
  const missing = missingNodeBinaries();
  if (missing.length > 0) throw new Error(`the kubelet lab needs: ${missing.join('; ')}`);
  const cp = await startControlPlane({ dir: o.dir, progress, kubelets: true });
  await createTopology(progress);
  const registry = await startRegistry({ dir: o.dir, address: MGMT_HOST_IP, port: REGISTRY_PORT, progress });
  const pushed = await pushShippedImages(registry);
  progress(`registry ${registry.host}: pushed ${pushed.map((p) => p.ref).join(', ')}`);
  const images = new Map(pushed.map((p) => [p.name, p]));
  const plans = await startNodes({
    dir: o.dir,
    cp,
    registry: registry.host,
    sandboxImage: imageOf({ images }, 'lab-pause').ref,
    progress,
  });
  return { dir: o.dir, cp, registry, images, plans };
}

/** A whole node dies: kubelet, runtime, kube-proxy, every container, and its data link. */
export function killLabNode(lab: KubeletLab, name: string): Promise<void> {
  return killNode(lab.dir, labNode(name));
}

/** The node comes back (data link, containerd, kubelet, kube-proxy) and turns Ready again. */
export async function restartLabNode(lab: KubeletLab, name: string): Promise<void> {
  await restartNode(
    { dir: lab.dir, cp: lab.cp, registry: lab.registry.host, sandboxImage: imageOf(lab, 'lab-pause').ref },
    labNode(name),
  );
  await waitNodesReady(lab.cp, lab.dir);
}
