#!/usr/bin/env node
// The operator binary: settings from the environment, then the shared component runtime with
// leader election: two operators applying at once would fight over the same objects.
import { packageVersion, runComponent, startupSettings } from '@metallb-ts/k8s-runtime';
import { COMPONENTS, LEASES, OPERATOR_SETTINGS, readSettings, settingsHelp } from '@metallb-ts/manifests';
import { Operator } from './operator.js';
import { renderer } from './renderer.js';

const version = packageVersion(new URL('../package.json', import.meta.url));
const settings = startupSettings({
  component: 'operator',
  args: process.argv.slice(2),
  version,
  help: () => settingsHelp(OPERATOR_SETTINGS),
  read: () => readSettings(OPERATOR_SETTINGS, process.env),
});
await runComponent({
  name: 'operator',
  settings,
  eventSource: COMPONENTS.operator.eventSource,
  leaderElection: { lease: LEASES.operator, identity: settings.podName || undefined },
  startFields: { version, controllerImage: settings.controllerImage, speakerImage: settings.speakerImage },
  work: ({ kube, logger, events }) =>
    new Operator({
      kube,
      events,
      logger,
      namespace: settings.namespace,
      render: renderer,
      images: { controller: settings.controllerImage, speaker: settings.speakerImage },
      version,
    }),
});
