#!/usr/bin/env node
// The controller binary: settings from the environment, then the shared component runtime with
// leader election: two controllers that both allocate would hand one address to two services.
import { packageVersion, runComponent, startupSettings } from '@metallb-ts/k8s-runtime';
import { COMPONENTS, CONTROLLER_SETTINGS, LEASES, readSettings, settingsHelp } from '@metallb-ts/manifests';
import { controllerWork } from './controller-work.js';

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
  // Losing the lease mid-flight stops this term's Controller (its writes done) and campaigns again;
  // winning again builds a fresh Controller, which restores from Service status as a restarted
  // process would. Timings: a standby takes over at most lease + retry + one jittered retry (1.2x)
  // after the leader's last renewal, so 3 s + 0.5 s + 0.6 s plus its start-up (caches, restore:
  // ~0.2 s at 200 Services) keeps a SIGKILLed leader's work resuming within 5 s (e2e/tests/ha
  // measures it). The renew deadline leaves the leader 1 s between stepping down and the earliest
  // takeover for writes still in flight, and 3-4 renewal attempts (0.5 s each) before it gives up.
  // The cost: an API server unreachable for more than 2 s ends the leader's term (it steps down and
  // campaigns again), and the leader sends ~4 lease requests a second (read + write per renewal),
  // each standby ~2. A SIGTERMed leader hands the lease back at once (measured: under 1 s to the
  // successor).
  leaderElection: {
    lease: LEASES.controller,
    identity: settings.podName || undefined,
    leaseDurationMs: 3_000,
    renewDeadlineMs: 2_000,
    retryPeriodMs: 500,
  },
  // Its Deployment owns what it creates for the install (the Lease above, the gossip key Secret),
  // so they go with the Deployment: see memberlistSecret for why not the operator's cleanup.
  owner: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    plural: 'deployments',
    name: COMPONENTS.controller.workload,
  },
  startFields: { loadBalancerClass: settings.loadBalancerClass ?? '(none)' },
  work: controllerWork({ namespace: settings.namespace, loadBalancerClass: settings.loadBalancerClass }),
});
