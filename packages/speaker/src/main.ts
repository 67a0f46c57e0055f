#!/usr/bin/env node
import {
  connect,
  createK8sClientMetrics,
  createLogger,
  createRegistry,
  createServer,
  onShutdown,
  readCommonEnv,
  recorder,
} from '@metallb-ts/k8s-runtime';
import { readAnnounceTiming } from './announce-env.js';
import { parseExcludeList } from './interfaces.js';
import { Speaker } from './speaker.js';

const fail = (msg: string): never => {
  console.error(
    JSON.stringify({
      ts: new Date().toISOString(),
      level: 'error',
      component: 'speaker',
      msg: 'invalid environment',
      error: msg,
    }),
  );
  process.exit(2);
};
const common = readCommonEnv(process.env);
if (!common.ok) fail(common.error);
const env = common.ok ? common.value : fail('unreachable');
const nodeName =
  process.env.NODE_NAME || fail('NODE_NAME is required: the name of the Node this speaker runs on');
const exclude = parseExcludeList(process.env.METALLB_INTERFACE_EXCLUDE);
if (!exclude.ok) fail(exclude.error);
const positive = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  return Number.isFinite(v) && v > 0
    ? v
    : fail(`${name} "${process.env[name]}" must be a positive number of milliseconds`);
};
const renewMs = positive('MEMBERSHIP_RENEW_MS', 1000);
const leaseDurationMs = positive('MEMBERSHIP_LEASE_MS', 3000);
if (leaseDurationMs < 2 * renewMs)
  fail(
    `MEMBERSHIP_LEASE_MS (${leaseDurationMs}) must be at least twice MEMBERSHIP_RENEW_MS (${renewMs}), or one late renewal looks like a death`,
  );

const timing = readAnnounceTiming(process.env);
if (!timing.ok) fail(timing.error);

const logger = createLogger({ component: 'speaker', level: env.logLevel }).child({ node: nodeName });
const kube = connect();
const registry = createRegistry();
const clientMetrics = createK8sClientMetrics(registry);
const speaker = new Speaker(
  {
    nodeName,
    namespace: env.namespace,
    exclude: exclude.ok ? exclude.value : [],
    membership: { renewMs, leaseDurationMs },
    ...(timing.ok ? { announcer: timing.value } : {}),
    ignoreExcludeLabel: process.env.IGNORE_EXCLUDE_LB === 'true',
    ...(process.env.LOAD_BALANCER_CLASS ? { loadBalancerClass: process.env.LOAD_BALANCER_CLASS } : {}),
  },
  {
    kube,
    logger,
    registry,
    clientMetrics,
    events: recorder(kube, { component: 'metallb-speaker', host: nodeName, logger }),
  },
);
const server = createServer({
  host: env.metricsHost,
  port: env.metricsPort,
  registry,
  logger,
  checks: { healthz: () => true, readyz: () => speaker.ready },
});
await server.start();
const abort = new AbortController();
logger.info('speaker starting', {
  namespace: env.namespace,
  metrics: `${env.metricsHost}:${env.metricsPort}`,
  renewMs,
  leaseDurationMs,
  loadBalancerClass: process.env.LOAD_BALANCER_CLASS || '(none)',
});
speaker.start(abort.signal).catch((error) => {
  logger.error('speaker failed to start', { error });
  process.exit(1);
});
onShutdown(logger, [async () => abort.abort(), async () => speaker.stop(), async () => server.close()]);
