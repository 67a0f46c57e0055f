#!/usr/bin/env node
// The speaker binary: settings from the environment, then the shared component runtime.
import { packageVersion, runComponent, startupSettings } from '@metallb-ts/k8s-runtime';
import { COMPONENTS, readSettings, settingsHelp, SPEAKER_SETTINGS } from '@metallb-ts/manifests';
import { membershipPort } from './membership-wiring.js';
import { Speaker } from './speaker.js';
import { membershipChoice, speakerOptions } from './speaker-options.js';

const settings = startupSettings({
  component: 'speaker',
  args: process.argv.slice(2),
  version: packageVersion(new URL('../package.json', import.meta.url)),
  help: () => settingsHelp(SPEAKER_SETTINGS),
  read: () => readSettings(SPEAKER_SETTINGS, process.env),
});
const options = speakerOptions(settings);
const membership = membershipChoice(settings);
await runComponent({
  name: 'speaker',
  settings,
  eventSource: COMPONENTS.speaker.eventSource,
  eventHost: settings.nodeName,
  logContext: { node: settings.nodeName },
  // Its Pod owns the ServiceL2Status objects it writes: they go with the Pod (MetalLB's way), so
  // neither a dead speaker nor an uninstall leaves them behind.
  ...(settings.podName
    ? { owner: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', name: settings.podName } }
    : {}),
  startFields: { membership, loadBalancerClass: options.loadBalancerClass ?? '(none)' },
  work: ({ kube, logger, registry, clientMetrics, events, owner }) =>
    new Speaker(options, {
      kube,
      logger,
      registry,
      clientMetrics,
      events,
      ...(owner ? { owner } : {}),
      membership: membershipPort(membership, { kube, logger, registry, events, options }),
    }),
});
