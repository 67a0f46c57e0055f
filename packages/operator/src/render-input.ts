// What the operator hands the renderer of `@metallb-ts/manifests`, and the renderer's shape.
// The reconciler takes the renderer as a parameter, so tests can give it a small one.
import type { MetalLB } from '@metallb-ts/api';
import type { KubeObject } from '@metallb-ts/k8s-runtime';

export interface RenderInput {
  /** Where the components go (the operator's namespace). */
  readonly namespace: string;
  /** The resource everything is rendered for: its spec, and the owner of namespaced objects. */
  readonly metallb: MetalLB;
  /** Images from the operator's own settings: a new operator version rolls the components. */
  readonly images: { readonly controller: string; readonly speaker: string };
}

/** Every object the components need, in apply order (accounts and RBAC before workloads). */
export type Renderer = (input: RenderInput) => KubeObject[];
