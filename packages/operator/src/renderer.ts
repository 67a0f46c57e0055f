// The one place the binary binds the reconciler to the renderer of `@metallb-ts/manifests`.
// Until `renderComponents` lands there, the binary refuses to deploy (every pass fails with this
// message and is retried with backoff); the reconciler itself takes any `Renderer`.
import type { Renderer } from './render-input.js';

export const renderer: Renderer = () => {
  throw new Error('this build has no component renderer (renderComponents of @metallb-ts/manifests)');
};
