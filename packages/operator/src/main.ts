#!/usr/bin/env node
// Wiring only: settings -> client, events, probes server, leader election -> Operator.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  connect,
  createLogger,
  createRegistry,
  createServer,
  LeaseElector,
  onShutdown,
  recorder,
} from '@metallb-ts/k8s-runtime';
import { COMPONENTS, LEASES, OPERATOR_SETTINGS, readSettings } from '@metallb-ts/manifests';
import { Operator } from './operator.js';
import { renderer } from './renderer.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const args = process.argv.slice(2);
if (args.includes('--version')) {
  console.log(version);
  process.exit(0);
}
if (args.includes('--help')) {
  const lines = Object.values(OPERATOR_SETTINGS.defs).map((d) => `  ${d.env.padEnd(18)} ${d.doc}`);
  console.log(
    `metallb-operator ${version}: deploys metallb-ts for the MetalLB resource named metallb in its namespace.\n` +
      `Configured by the environment:\n${lines.join('\n')}`,
  );
  process.exit(0);
}

const read = readSettings(OPERATOR_SETTINGS, process.env);
if (!read.ok) {
  for (const error of read.errors)
    console.error(
      JSON.stringify({
        ts: new Date().toISOString(),
        level: 'error',
        component: 'operator',
        msg: 'invalid environment',
        error,
      }),
    );
  process.exit(2);
}
const settings = read.value;
const logger = createLogger({ component: 'operator', level: settings.logLevel });
const kube = connect({ logger });
const registry = createRegistry();
const operator = new Operator({
  kube,
  events: recorder(kube, { component: COMPONENTS.operator.eventSource, logger }),
  logger,
  namespace: settings.namespace,
  render: renderer,
  images: { controller: settings.controllerImage, speaker: settings.speakerImage },
  version,
});
const abort = new AbortController();
let shuttingDown = false;
const identity = settings.podName || `${hostname()}-${process.pid}`;
// Two operators applying at once would fight over the same objects: only the lease holder works.
const elector = new LeaseElector(kube, {
  namespace: settings.namespace,
  name: LEASES.operator,
  identity,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  logger,
  onStartedLeading: () => {
    logger.info('became leader; starting', { identity });
    operator.start(abort.signal).catch((error) => {
      logger.error('operator failed to start', { error });
      process.exit(1);
    });
  },
  onStoppedLeading: () => {
    if (shuttingDown) return;
    logger.error('lost leadership; exiting so a fresh start begins from a clean state', { identity });
    process.exit(1);
  },
});
const server = createServer({
  host: settings.metricsHost,
  port: settings.metricsPort,
  registry,
  logger,
  checks: { healthz: () => true, readyz: () => operator.ready || !elector.isLeader() },
});
await server.start();
logger.info('operator started', {
  version,
  namespace: settings.namespace,
  metrics: `${settings.metricsHost}:${settings.metricsPort}`,
  identity,
});
void elector.run(abort.signal);
onShutdown(logger, [
  () => {
    shuttingDown = true;
  },
  () => operator.stop(),
  () => elector.release(),
  () => abort.abort(),
  () => server.close(),
]);
