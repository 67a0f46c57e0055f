import { describe, expect, it } from '@jest/globals';
import {
  COMPONENTS,
  isClusterScoped,
  LABELS,
  renderComponents,
  renderOperatorInstall,
  VALIDATED_KINDS,
  WEBHOOK,
  type KubeObject,
  type ValidatingWebhookConfiguration,
} from '../src/index.js';

const owner = { apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', name: 'metallb', uid: 'uid-1' };
const base = { namespace: 'mlb', spec: {}, images: { controller: 'c:1', speaker: 's:1' }, version: 'v1' };
const kinds = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

describe('renderComponents', () => {
  const objects = renderComponents({ ...base, owner });

  it('renders the ServiceAccounts, RBAC, metrics Services and workloads of controller and speaker', () => {
    expect(kinds(objects).sort()).toEqual(
      [
        'ServiceAccount/controller',
        'ClusterRole/metallb-ts:controller',
        'ClusterRoleBinding/metallb-ts:controller',
        'Role/controller',
        'RoleBinding/controller',
        'ServiceAccount/speaker',
        'ClusterRole/metallb-ts:speaker',
        'ClusterRoleBinding/metallb-ts:speaker',
        'Role/speaker',
        'RoleBinding/speaker',
        'Service/controller-metrics',
        'Service/speaker-metrics',
        'Deployment/controller',
        'DaemonSet/speaker',
      ].sort(),
    );
  });

  it('owns every namespaced object with a controlling ownerReference', () => {
    for (const o of objects.filter((x) => !isClusterScoped(x))) {
      expect(o.metadata.namespace).toBe('mlb');
      expect(o.metadata.ownerReferences).toEqual([{ ...owner, controller: true, blockOwnerDeletion: true }]);
      expect(o.metadata.labels?.[LABELS.ownerName]).toBeUndefined();
    }
  });

  it('labels cluster-scoped objects with the owner instead', () => {
    const cluster = objects.filter(isClusterScoped);
    expect(cluster).toHaveLength(4);
    for (const o of cluster) {
      expect(o.metadata.ownerReferences).toBeUndefined();
      expect(o.metadata.namespace).toBeUndefined();
      expect(o.metadata.labels).toMatchObject({
        [LABELS.ownerName]: 'metallb',
        [LABELS.ownerNamespace]: 'mlb',
      });
    }
  });

  it('without an owner, nothing is owned or owner-labelled', () => {
    for (const o of renderComponents(base)) {
      expect(o.metadata.ownerReferences).toBeUndefined();
      expect(o.metadata.labels?.[LABELS.ownerName]).toBeUndefined();
    }
  });

  it('labels everything with the component and version', () => {
    for (const o of objects) {
      expect(o.metadata.labels?.[LABELS.name]).toBe('metallb-ts');
      expect(['controller', 'speaker']).toContain(o.metadata.labels?.[LABELS.component]);
      expect(o.metadata.labels?.[LABELS.version]).toBe('v1');
    }
  });

  it('is pure: the same input renders equal objects', () => {
    expect(renderComponents({ ...base, owner })).toEqual(objects);
  });
});

describe('renderOperatorInstall', () => {
  const objects = renderOperatorInstall({
    namespace: 'mlb-ops',
    image: 'o:1',
    version: 'v1',
    controllerImage: 'c:1',
    speakerImage: 's:1',
  });
  const webhook = objects.find(
    (o) => o.kind === 'ValidatingWebhookConfiguration',
  ) as ValidatingWebhookConfiguration;

  it('renders namespace, CRDs, operator RBAC, Deployment, Services and the webhook configuration', () => {
    const k = kinds(objects);
    expect(k[0]).toBe('Namespace/mlb-ops');
    expect(k.filter((x) => x.startsWith('CustomResourceDefinition/'))).toHaveLength(5);
    for (const want of [
      `ServiceAccount/${COMPONENTS.operator.serviceAccount}`,
      `ClusterRole/${COMPONENTS.operator.clusterRole}`,
      `ClusterRoleBinding/${COMPONENTS.operator.clusterRole}`,
      `Role/${COMPONENTS.operator.role}`,
      `RoleBinding/${COMPONENTS.operator.role}`,
      `Deployment/${COMPONENTS.operator.workload}`,
      `Service/${COMPONENTS.operator.metricsService}`,
      `Service/${WEBHOOK.service}`,
      `ValidatingWebhookConfiguration/${WEBHOOK.configuration}`,
    ])
      expect(k).toContain(want);
    for (const o of objects.filter((x) => !isClusterScoped(x))) expect(o.metadata.namespace).toBe('mlb-ops');
  });

  it('validates the four kinds on create and update, in the install namespace only', () => {
    expect(webhook.webhooks.map((w) => [w.rules[0]!.resources, w.clientConfig.service.path])).toEqual([
      [['metallbs'], '/validate-metallb'],
      [['ipaddresspools'], '/validate-ipaddresspool'],
      [['addresspools'], '/validate-addresspool'],
      [['l2advertisements'], '/validate-l2advertisement'],
    ]);
    for (const w of webhook.webhooks) {
      expect(w.rules[0]!.operations).toEqual(['CREATE', 'UPDATE']);
      expect(w).toMatchObject({
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
      });
      // Every namespace: a pool outside the install namespace is refused with the reason.
      expect(w.namespaceSelector).toBeUndefined();
      expect(w.clientConfig.service).toMatchObject({
        name: WEBHOOK.service,
        namespace: 'mlb-ops',
        port: 443,
      });
      expect(w.clientConfig.caBundle).toBeUndefined();
    }
    expect(new Set(webhook.webhooks.map((w) => w.name)).size).toBe(VALIDATED_KINDS.length);
  });
});
