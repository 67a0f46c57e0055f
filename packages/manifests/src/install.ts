// Whole installs: what the operator applies for a MetalLB resource, and what installs the operator.
import { crds, GROUP } from '@metallb-ts/api';
import { APP_NAME, LABELS, VALIDATED_KINDS, WEBHOOK } from './names.js';
import {
  isClusterScoped,
  type KubeObject,
  type Namespace,
  type OwnerReference,
  type ValidatingWebhookConfiguration,
} from './objects.js';
import { componentMeta } from './labels.js';
import { componentRbac } from './rbac.js';
import { metricsService, webhookService } from './services.js';
import {
  controllerDeployment,
  operatorDeployment,
  speakerDaemonSet,
  type ComponentsInput,
  type OperatorInput,
} from './workloads.js';

/** The object everything the operator renders belongs to (the MetalLB resource). */
export interface Owner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid: string;
}

export interface RenderComponentsInput extends ComponentsInput {
  readonly owner?: Owner;
}

/**
 * Ties an object to its owner. Namespaced objects get a controlling ownerReference, so the
 * garbage collector removes them with the owner. Cluster-scoped objects cannot be owned by a
 * namespaced object, so they get the owner's name and namespace as labels, by which the
 * operator finds and removes them itself.
 */
export function withOwner<T extends KubeObject>(object: T, owner: Owner, ownerNamespace: string): T {
  if (isClusterScoped(object))
    return {
      ...object,
      metadata: {
        ...object.metadata,
        labels: {
          ...object.metadata.labels,
          [LABELS.ownerName]: owner.name,
          [LABELS.ownerNamespace]: owner.namespace ?? ownerNamespace,
        },
      },
    };
  const ref: OwnerReference = {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  return { ...object, metadata: { ...object.metadata, ownerReferences: [ref] } };
}

/** The controller's and speaker's ServiceAccounts and RBAC (also `config/rbac/`). */
export function renderComponentsRbac(namespace: string, version?: string): KubeObject[] {
  return [
    ...componentRbac('controller', namespace, version),
    ...componentRbac('speaker', namespace, version),
  ];
}

/**
 * Everything the operator applies for a MetalLB resource: the controller's and speaker's
 * ServiceAccounts, RBAC, metrics Services, the controller Deployment and the speaker DaemonSet.
 */
export function renderComponents(input: RenderComponentsInput): KubeObject[] {
  const { namespace, version, owner } = input;
  const objects: KubeObject[] = [
    ...renderComponentsRbac(namespace, version),
    metricsService('controller', namespace, version),
    metricsService('speaker', namespace, version),
    controllerDeployment(input),
    speakerDaemonSet(input),
  ];
  return owner ? objects.map((o) => withOwner(o, owner, namespace)) : objects;
}

export function namespaceObject(namespace: string): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: { [LABELS.name]: APP_NAME } },
  };
}

/**
 * The operator's validating webhook: MetalLB, IPAddressPool, AddressPool and L2Advertisement on
 * create and update, in every namespace: an object created outside the install namespace would
 * otherwise be silently ignored; the webhook refuses it and says where it belongs. `caBundle` is left out: the operator, which
 * generates the certificates, patches it in.
 */
export function webhookConfiguration(namespace: string, version?: string): ValidatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: componentMeta('operator', WEBHOOK.configuration, undefined, version),
    webhooks: VALIDATED_KINDS.map((k) => ({
      name: k.webhook,
      clientConfig: {
        service: { name: WEBHOOK.service, namespace, path: k.path, port: WEBHOOK.servicePort },
      },
      rules: [
        {
          apiGroups: [GROUP],
          apiVersions: ['*'],
          operations: ['CREATE', 'UPDATE'],
          resources: [k.plural],
          scope: 'Namespaced',
        },
      ],
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      timeoutSeconds: 10,
    })),
  };
}

/**
 * Installs the operator: its namespace, the CRDs, its ServiceAccount and RBAC (which include
 * every right it grants the components), its Deployment, its metrics and webhook Services and
 * the webhook configuration.
 */
export function renderOperatorInstall(input: OperatorInput): KubeObject[] {
  const { namespace, version } = input;
  return [
    namespaceObject(namespace),
    ...(crds() as unknown as KubeObject[]),
    ...componentRbac('operator', namespace, version),
    metricsService('operator', namespace, version),
    webhookService(namespace, version),
    operatorDeployment(input),
    webhookConfiguration(namespace, version),
  ];
}
