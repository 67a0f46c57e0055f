// What the operator hands the renderer of `@metallb-ts/manifests`, and the renderer's shape
// (the same fields as its `RenderComponentsInput`). The reconciler takes the renderer as a
// parameter, so tests can give it a small one.
import type { MetalLBSpec } from '@metallb-ts/api';
import type { KubeObject } from '@metallb-ts/k8s-runtime';

/** The object everything rendered belongs to: the MetalLB resource. */
export interface RenderOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid: string;
}

export interface RenderInput {
  /** Where the components go (the operator's namespace). */
  readonly namespace: string;
  readonly spec: MetalLBSpec;
  /** Images from the operator's own settings: a new operator version rolls the components. */
  readonly images: { readonly controller: string; readonly speaker: string };
  /** The operator's version (`app.kubernetes.io/version`). */
  readonly version: string;
  readonly owner?: RenderOwner;
}

/** Every object the components need, in apply order (accounts and RBAC before workloads). */
export type Renderer = (input: RenderInput) => KubeObject[];
