import { GROUP } from './constants.js';

/** The subset of OpenAPI v3 (JSONSchemaProps) that CRDs here use. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  format?: string;
  enum?: string[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  /** CEL rules the API server checks (no webhook needed); `message` is what the user reads. */
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
}

const str = (description: string, extra: Partial<Schema> = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});
const bool = (description: string, extra: Partial<Schema> = {}): Schema => ({
  type: 'boolean',
  description,
  ...extra,
});
const int = (description: string, extra: Partial<Schema> = {}): Schema => ({
  type: 'integer',
  description,
  ...extra,
});
const list = (description: string, items: Schema, extra: Partial<Schema> = {}): Schema => ({
  type: 'array',
  description,
  items,
  ...extra,
});
const obj = (description: string, properties: Record<string, Schema>, required?: string[]): Schema => ({
  type: 'object',
  description,
  properties,
  ...(required && required.length > 0 ? { required } : {}),
});
const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

// Strict IPv4 (each octet 0-255) so the API server itself refuses 203.0.113.300; IPv6 is checked
// loosely here (hex groups and colons) and fully by buildConfig.
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = `(${OCTET}\\.){3}${OCTET}`;
const IPV6 = '[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}(:' + IPV4 + ')?';
/** One `addresses` entry: a CIDR, a single address, or a `start-end` range of one family. */
export const ADDRESS_PATTERN = `^ *(${IPV4}(/(3[0-2]|[12]?[0-9]))?|${IPV6}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?|${IPV4} *- *${IPV4}|${IPV6} *- *${IPV6}) *$`;

const addresses = list(
  'Addresses in the pool: CIDRs (203.0.113.0/28, 2001:db8::/120), ranges (203.0.113.10-203.0.113.20) or single addresses.',
  str('A CIDR, a start-end range, or one address.', { pattern: ADDRESS_PATTERN, maxLength: 100 }),
  { minItems: 1 },
);

const labelSelector: Schema = {
  ...obj('A label selector: all matchLabels and all matchExpressions must hold; empty matches everything.', {
    matchLabels: stringMap('Labels that must be present with these values.'),
    matchExpressions: list(
      'Requirements on labels.',
      obj(
        'A label requirement.',
        {
          key: str('The label key.', { minLength: 1 }),
          operator: str('How the key relates to the values.', {
            enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
          }),
          values: list('Values for In and NotIn; empty for Exists and DoesNotExist.', { type: 'string' }),
        },
        ['key', 'operator'],
      ),
    ),
  }),
  'x-kubernetes-map-type': 'atomic',
};

const condition = obj(
  'A standard condition.',
  {
    type: str('Condition type.', { maxLength: 316 }),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('A CamelCase reason.', { maxLength: 1024 }),
    message: str('A human readable message.', { maxLength: 32768 }),
    lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
    observedGeneration: int('The generation the condition was computed for.', {
      format: 'int64',
      minimum: 0,
    }),
  },
  ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
);
const conditions: Schema = {
  ...list('Conditions of the object.', condition),
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

const poolStatus = obj(
  'Usage and validity written by the controller; counts are capped at 2^53-1 (an IPv6 /64 holds 2^64).',
  {
    assignedIPv4: int('IPv4 addresses in use.', { format: 'int64', minimum: 0 }),
    assignedIPv6: int('IPv6 addresses in use.', { format: 'int64', minimum: 0 }),
    availableIPv4: int('IPv4 addresses still free.', { format: 'int64', minimum: 0 }),
    availableIPv6: int('IPv6 addresses still free.', { format: 'int64', minimum: 0 }),
    conditions,
  },
);

const autoAssign = bool('Whether services may get addresses from this pool without asking for it by name.', {
  default: true,
});

const addressPoolSpec = obj(
  'An address pool announced with the given protocol (metallb-ts implements layer2).',
  {
    protocol: str(
      'How addresses are announced; only layer2 is implemented, bgp pools are reported as errors.',
      { enum: ['layer2', 'bgp'] },
    ),
    addresses,
    autoAssign,
    bgpAdvertisements: list(
      'BGP advertisement settings (bgp pools only).',
      obj('One BGP advertisement.', {
        aggregationLength: int('Prefix length for IPv4 aggregation.', {
          format: 'int32',
          minimum: 0,
          maximum: 32,
        }),
        aggregationLengthV6: int('Prefix length for IPv6 aggregation.', {
          format: 'int32',
          minimum: 0,
          maximum: 128,
        }),
        localPref: int('BGP LOCAL_PREF.', { format: 'int32', minimum: 0 }),
        communities: list('BGP communities.', { type: 'string' }),
      }),
    ),
  },
  ['protocol', 'addresses'],
);

const ipAddressPoolSpec = obj(
  'Addresses services can get.',
  {
    addresses,
    autoAssign,
    avoidBuggyIPs: bool('Skip IPv4 addresses ending in .0 and .255.', { default: false }),
    serviceAllocation: obj(
      'Which services may get addresses from this pool automatically, and in what order.',
      {
        priority: int('Lower values are tried first.', { format: 'int32', minimum: 0 }),
        namespaces: list('Namespaces whose services may use the pool.', { type: 'string', minLength: 1 }),
        namespaceSelectors: list('Namespaces (by label) whose services may use the pool.', labelSelector),
        serviceSelectors: list('Services (by label) that may use the pool.', labelSelector),
      },
    ),
  },
  ['addresses'],
);

const l2AdvertisementSpec = obj('Which pools are announced from which nodes and interfaces with layer 2.', {
  ipAddressPools: list('Pools by name; with no pools and no selectors, every IPAddressPool.', {
    type: 'string',
    minLength: 1,
  }),
  ipAddressPoolSelectors: list('Pools by label.', labelSelector),
  nodeSelectors: list('Nodes that may announce; none = every node.', labelSelector),
  interfaces: list('Interfaces to announce on; none = every interface.', { type: 'string', minLength: 1 }),
  serviceSelectors: list('Services this advertisement applies to; none = every service.', labelSelector),
});

const toleration = obj('A pod toleration.', {
  key: str('Taint key; empty with operator Exists matches every taint.'),
  operator: str('Exists or Equal.', { enum: ['Exists', 'Equal'] }),
  value: str('Taint value for Equal.'),
  effect: str('Taint effect; empty matches all.', {
    enum: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  }),
  tolerationSeconds: int('How long a NoExecute taint is tolerated.', { format: 'int64' }),
});

const passThrough = (description: string): Schema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});

const componentConfig = (who: string): Schema =>
  obj(`Pod settings for the ${who}.`, {
    priorityClassName: str('Priority class of the pods.'),
    runtimeClassName: str('Runtime class of the pods.'),
    affinity: passThrough('A Kubernetes Affinity, copied to the pods.'),
    annotations: stringMap('Annotations added to the pods.'),
    resources: passThrough('Kubernetes ResourceRequirements for the main container.'),
  });

// MetalLB operator's BGP fields, declared only to be refused by the API server itself with a clear
// message (an undeclared field would be pruned silently by clients that skip strict validation).
const LAYER2_ONLY = 'metallb-ts is layer 2 only: bgpBackend and bgpType (BGP) are not supported';
const bgpField = (description: string): Schema =>
  str(`${description} Refused: metallb-ts is layer 2 only.`, { maxLength: 64 });

const metalLBSpec: Schema = {
  ...obj('How the operator deploys the controller and the speakers.', {
    nodeSelector: stringMap('Nodes the speaker DaemonSet runs on.'),
    speakerTolerations: list('Tolerations of the speaker pods.', toleration),
    controllerNodeSelector: stringMap('Nodes the controller may run on.'),
    controllerTolerations: list('Tolerations of the controller pod.', toleration),
    logLevel: str('Log verbosity of controller and speakers.', {
      enum: ['all', 'debug', 'info', 'warn', 'error', 'none'],
      default: 'info',
    }),
    loadBalancerClass: str(
      'Only services with this spec.loadBalancerClass are handled; unset = services without a class.',
    ),
    controllerConfig: componentConfig('controller'),
    speakerConfig: componentConfig('speakers'),
    bgpBackend: bgpField('MetalLB: the BGP implementation.'),
    bgpType: bgpField('MetalLB (older): the BGP implementation.'),
  }),
  'x-kubernetes-validations': [
    {
      rule: '!has(self.bgpBackend) && !has(self.bgpType)',
      message: LAYER2_ONLY,
      reason: 'FieldValueForbidden',
    },
  ],
};

interface Column {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

const age: Column = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
/** The controller's verdict on the object (VALID_CONDITION): valid, and if not, why and what is served. */
const validColumns: Column[] = [
  { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status' },
  { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].reason' },
  {
    name: 'Message',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Valid")].message',
    priority: 1,
  },
];
const poolColumns: Column[] = [
  { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
  { name: 'Assigned IPv4', type: 'integer', jsonPath: '.status.assignedIPv4' },
  { name: 'Available IPv4', type: 'integer', jsonPath: '.status.availableIPv4' },
  { name: 'Assigned IPv6', type: 'integer', jsonPath: '.status.assignedIPv6' },
  { name: 'Available IPv6', type: 'integer', jsonPath: '.status.availableIPv6' },
  ...validColumns,
  { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses', priority: 1 },
];

interface KindDef {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames?: string[];
  description: string;
  spec: Schema;
  specRequired: boolean;
  status: Schema;
  columns: Column[];
  /** Served versions; the first is the storage version. */
  versions: string[];
}

const KINDS: KindDef[] = [
  {
    kind: 'AddressPool',
    plural: 'addresspools',
    singular: 'addresspool',
    listKind: 'AddressPoolList',
    description: 'A pool of addresses announced with layer 2 (the original MetalLB pool API).',
    spec: addressPoolSpec,
    specRequired: true,
    status: poolStatus,
    columns: [{ name: 'Protocol', type: 'string', jsonPath: '.spec.protocol' }, ...poolColumns, age],
    versions: ['v1beta1', 'v1alpha1'],
  },
  {
    kind: 'IPAddressPool',
    plural: 'ipaddresspools',
    singular: 'ipaddresspool',
    listKind: 'IPAddressPoolList',
    description: 'A pool of addresses that LoadBalancer services can get.',
    spec: ipAddressPoolSpec,
    specRequired: true,
    status: poolStatus,
    columns: [
      ...poolColumns,
      { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs', priority: 1 },
      age,
    ],
    versions: ['v1beta1'],
  },
  {
    kind: 'L2Advertisement',
    plural: 'l2advertisements',
    singular: 'l2advertisement',
    listKind: 'L2AdvertisementList',
    description: 'Announces pools with ARP/NDP from selected nodes and interfaces.',
    spec: l2AdvertisementSpec,
    specRequired: false,
    status: obj('Validity written by the controller (condition Valid).', { conditions }),
    columns: [
      { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
      { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
      ...validColumns,
      { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 1 },
      age,
    ],
    versions: ['v1beta1'],
  },
  {
    kind: 'ServiceL2Status',
    plural: 'servicel2statuses',
    singular: 'servicel2status',
    listKind: 'ServiceL2StatusList',
    description: "Which node announces a service with layer 2, written by that node's speaker.",
    spec: obj('Empty; everything is in status.', {}),
    specRequired: false,
    status: obj('The announcement.', {
      node: str('The announcing node.'),
      serviceName: str('The service name.'),
      serviceNamespace: str('The service namespace.'),
      interfaces: list(
        'Interfaces the service is announced on.',
        obj('An interface.', { name: str('Interface name.') }, ['name']),
      ),
    }),
    columns: [
      { name: 'Allocated Node', type: 'string', jsonPath: '.status.node' },
      { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
      { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
      age,
    ],
    versions: ['v1beta1'],
  },
  {
    kind: 'MetalLB',
    plural: 'metallbs',
    singular: 'metallb',
    listKind: 'MetalLBList',
    description: 'Deploys metallb-ts; only the object named metallb in the operator namespace is acted on.',
    spec: metalLBSpec,
    specRequired: false,
    status: obj('Conditions written by the operator: Available, Progressing, Degraded, Upgradeable.', {
      conditions,
    }),
    columns: [
      { name: 'Available', type: 'string', jsonPath: '.status.conditions[?(@.type=="Available")].status' },
      { name: 'Degraded', type: 'string', jsonPath: '.status.conditions[?(@.type=="Degraded")].status' },
      {
        name: 'Progressing',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Progressing")].status',
      },
      { name: 'Log Level', type: 'string', jsonPath: '.spec.logLevel', priority: 1 },
      age,
    ],
    versions: ['v1beta1', 'v1alpha1'],
  },
];

function crdFor(def: KindDef): Record<string, unknown> {
  const schema: Schema = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: str('APIVersion of this object.'),
      kind: str('Kind of this object.'),
      metadata: { type: 'object' },
      spec: def.spec,
      status: def.status,
    },
    ...(def.specRequired ? { required: ['spec'] } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        ...(def.shortNames ? { shortNames: def.shortNames } : {}),
      },
      scope: 'Namespaced',
      // Identical schemas in every version: the API server converts with strategy None.
      versions: def.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: structuredClone(schema) },
        subresources: { status: {} },
        additionalPrinterColumns: def.columns.map((c) => ({ ...c })),
      })),
    },
  };
}

/** Every CustomResourceDefinition metallb-ts installs, as plain objects (apiextensions.k8s.io/v1). */
export function crds(): Record<string, unknown>[] {
  return KINDS.map(crdFor);
}

/** The file name the generator writes for a CRD: `metallb.io_<plural>.yaml`. */
export function crdFileName(crd: Record<string, unknown>): string {
  const spec = crd.spec as { names: { plural: string } };
  return `${GROUP}_${spec.names.plural}.yaml`;
}
