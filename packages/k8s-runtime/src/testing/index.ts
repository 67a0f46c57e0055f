// Test doubles for code built on this package, published as `@metallb-ts/k8s-runtime/testing`.
// Nothing here is used at run time by the components themselves.
export { FakeKube, until } from './fake-kube.js';
export { eventually } from './eventually.js';
