#!/usr/bin/env node
import {
  connect,
  createK8sClientMetrics,
  createLogger,
  createRegistry,
  createServer,
  LeaseElector,
  onShutdown,
  readCommonEnv,
  recorder,
} from '@metallb-ts/k8s-runtime';
import { hostname } from 'node:os';
import { AllocatorMetrics } from './allocator-metrics.js';
import { Controller } from './controller.js';

const env = readCommonEnv(process.env);
if (!env.ok) {
  console.error(
    JSON.stringify({ level: 'error', component: 'controller', msg: 'invalid environment', error: env.error }),
  );
  process.exit(2);
}
const opts = { ...env.value, loadBalancerClass: process.env.LOAD_BALANCER_CLASS || undefined };
const logger = createLogger({ component: 'controller', level: opts.logLevel });
const kube = connect();
const registry = createRegistry();
const clientMetrics = createK8sClientMetrics(registry);
const controller = new Controller({
  kube,
  events: recorder(kube, { component: 'metallb-controller', logger }),
  logger,
  namespace: opts.namespace,
  loadBalancerClass: opts.loadBalancerClass,
  allocatorMetrics: new AllocatorMetrics(registry),
  clientMetrics,
});
const abort = new AbortController();
let shuttingDown = false;
const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
// Two controllers that both allocate would hand one address to two services: only the lease
// holder works. Losing the lease mid-flight ends the process; a fresh start restores from status.
const elector = new LeaseElector(kube, {
  namespace: opts.namespace,
  name: 'metallb-controller',
  identity,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  logger,
  onStartedLeading: () => {
    logger.info('became leader; starting', { identity });
    controller.start(abort.signal).catch((error) => {
      logger.error('controller failed to start', { error });
      process.exit(1);
    });
  },
  onStoppedLeading: () => {
    // A planned stop gives the lease back itself (see the shutdown steps); only a lost lease exits.
    if (shuttingDown) return;
    logger.error('lost leadership; exiting so a fresh start restores state', { identity });
    process.exit(1);
  },
});
const server = createServer({
  host: opts.metricsHost,
  port: opts.metricsPort,
  registry,
  logger,
  checks: { healthz: () => true, readyz: () => controller.ready || !elector.isLeader() },
});
await server.start();
logger.info('controller started', {
  namespace: opts.namespace,
  metrics: `${opts.metricsHost}:${opts.metricsPort}`,
  identity,
});
void elector.run(abort.signal);
// Stop working first, then hand the lease back at once, so a successor starts without waiting
// for the lease to expire and never overlaps with our last writes.
onShutdown(logger, [
  async () => {
    shuttingDown = true;
  },
  async () => controller.stop(),
  async () => elector.release(),
  async () => abort.abort(),
  async () => server.close(),
]);
