#!/usr/bin/env node
// The operator binary: settings from the environment, then the shared component runtime with
// leader election: two operators applying at once would fight over the same objects. Every
// replica serves the validating webhook; only the leader reconciles MetalLB and keeps the
// webhook's certificate valid.
import { packageVersion, runComponent, startupSettings, workGroup } from '@metallb-ts/k8s-runtime';
import { COMPONENTS, LEASES, OPERATOR_SETTINGS, readSettings, settingsHelp } from '@metallb-ts/manifests';
import { Operator } from './operator.js';
import { renderer } from './renderer.js';
import { WebhookCertificates } from './webhook-certificates.js';
import { WebhookServing } from './webhook-serving.js';

const version = packageVersion(new URL('../package.json', import.meta.url));
const settings = startupSettings({
  component: 'operator',
  args: process.argv.slice(2),
  version,
  help: () => settingsHelp(OPERATOR_SETTINGS),
  read: () => readSettings(OPERATOR_SETTINGS, process.env),
});
const namespace = settings.namespace;
await runComponent({
  name: 'operator',
  settings,
  eventSource: COMPONENTS.operator.eventSource,
  leaderElection: { lease: LEASES.operator, identity: settings.podName || undefined },
  // The chart's Deployment owns what the operator creates for itself (its Lease, the webhook
  // certificate Secret): `helm uninstall` deletes the Deployment and the garbage collector the rest.
  owner: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    plural: 'deployments',
    name: COMPONENTS.operator.workload,
  },
  startFields: {
    version,
    controllerImage: settings.controllerImage,
    speakerImage: settings.speakerImage,
    webhookPort: settings.webhookPort,
  },
  always: ({ kube, logger }) => new WebhookServing({ kube, logger, namespace, port: settings.webhookPort }),
  work: ({ kube, logger, events, owner }) =>
    workGroup([
      new Operator({
        kube,
        events,
        logger,
        namespace,
        render: renderer,
        images: { controller: settings.controllerImage, speaker: settings.speakerImage },
        version,
      }),
      new WebhookCertificates({ kube, events, logger, namespace, ...(owner ? { owner } : {}) }),
    ]),
});
