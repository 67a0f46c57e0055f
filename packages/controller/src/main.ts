#!/usr/bin/env node
// The controller binary: settings from the environment, then the shared component runtime with
// leader election: two controllers that both allocate would hand one address to two services.
import { packageVersion, runComponent, startupSettings } from '@metallb-ts/k8s-runtime';
import { COMPONENTS, CONTROLLER_SETTINGS, LEASES, readSettings, settingsHelp } from '@metallb-ts/manifests';
import { AllocatorMetrics } from './allocator-metrics.js';
import { Controller } from './controller.js';
import { ensureMemberlistSecret } from './memberlist-secret.js';

const settings = startupSettings({
  component: 'controller',
  args: process.argv.slice(2),
  version: packageVersion(new URL('../package.json', import.meta.url)),
  help: () => settingsHelp(CONTROLLER_SETTINGS),
  read: () => readSettings(CONTROLLER_SETTINGS, process.env),
});
await runComponent({
  name: 'controller',
  settings,
  eventSource: COMPONENTS.controller.eventSource,
  // Losing the lease mid-flight ends the process; a fresh start restores from Service status.
  leaderElection: { lease: LEASES.controller, identity: settings.podName || undefined },
  startFields: { loadBalancerClass: settings.loadBalancerClass ?? '(none)' },
  work: ({ kube, logger, registry, clientMetrics, events }) =>
    new Controller({
      kube,
      events,
      logger,
      namespace: settings.namespace,
      loadBalancerClass: settings.loadBalancerClass,
      allocatorMetrics: new AllocatorMetrics(registry),
      clientMetrics,
      ensureSecrets: (signal) => ensureMemberlistSecret(kube, settings.namespace, logger, signal),
    }),
});
