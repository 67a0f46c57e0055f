// The lab's public surface, for scenario tests, benchmarks and the CLI.
export * from './api-request.js';
export * from './cluster-objects.js';
export * from './cluster-setup.js';
export * from './components.js';
export * from './control-plane.js';
export * from './credentials.js';
export * from './kubeconfig.js';
export { Lab, LAB_PROXY, BACKEND_PORTS, backendName, stopLabProcesses, resetClusterObjects } from './lab.js';
export type { ArpingResult, CurlResult, LabOptions, Neighbour } from './lab.js';
export * from './netns.js';
export * from './owner.js';
export * from './paths.js';
export * from './pki.js';
export * from './processes.js';
export * from './run.js';
export * from './topology.js';
export * from './wait-for.js';
