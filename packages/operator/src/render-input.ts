// The renderer's shape: what the reconciler hands `renderComponents` of `@metallb-ts/manifests`
// and gets back. The reconciler takes the renderer as a parameter, so tests can give it a small one.
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import type { Owner, RenderComponentsInput } from '@metallb-ts/manifests';

export type RenderInput = RenderComponentsInput;
export type RenderOwner = Owner;

/** Every object the components need, in apply order (accounts and RBAC before workloads). */
export type Renderer = (input: RenderInput) => KubeObject[];
