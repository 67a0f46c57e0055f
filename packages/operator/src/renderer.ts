// The one place the binary binds the reconciler to the renderer of `@metallb-ts/manifests`.
import { renderComponents } from '@metallb-ts/manifests';
import type { Renderer } from './render-input.js';

export const renderer: Renderer = renderComponents;
