import { describe, expect, it } from '@jest/globals';
import {
  parseQuantity,
  validateL2AdvertisementAdmission,
  validateMetalLB,
  validatePoolAdmission,
  type AdmissionVerdict,
  type ExistingPools,
} from '../src/index.js';

const NS = 'metallb-system';
const none: ExistingPools = { addressPools: [], ipAddressPools: [] };

const ipPool = (name: string, spec: Record<string, unknown>, namespace = NS) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace },
  spec,
});
const addressPool = (name: string, spec: Record<string, unknown>, namespace = NS) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'AddressPool',
  metadata: { name, namespace },
  spec,
});
const l2 = (name: string, spec?: Record<string, unknown>, namespace = NS) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'L2Advertisement',
  metadata: { name, namespace },
  ...(spec ? { spec } : {}),
});
const metallb = (spec?: Record<string, unknown>) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'MetalLB',
  metadata: { name: 'metallb', namespace: NS },
  ...(spec ? { spec } : {}),
});

/** The message of a refusal (fails the test when the object was allowed). */
function refusal(v: AdmissionVerdict): string {
  if (v.allowed) throw new Error('expected a refusal, got allowed');
  expect(v.message).not.toContain('\n');
  return v.message;
}

// The seed's AddressPool examples (OKD MetalLB Operator: doc-example, -reserved, -ipv6) and upstream
// MetalLB's documented IPAddressPool shapes, with documentation addresses.
const SEED_POOLS = [
  addressPool('doc-example', {
    protocol: 'layer2',
    addresses: ['203.0.113.1-203.0.113.10', '203.0.113.65-203.0.113.75'],
  }),
  addressPool('doc-example-reserved', {
    protocol: 'layer2',
    addresses: ['198.51.100.0/28'],
    autoAssign: false,
  }),
  addressPool('doc-example-ipv6', {
    protocol: 'layer2',
    addresses: ['2001:db8:10::1-2001:db8:10::ff', '203.0.113.128/28'],
  }),
];
const UPSTREAM_POOLS = [
  ipPool('first-pool', {
    addresses: ['192.0.2.0/26', '192.0.2.100-192.0.2.110', 'fc00:f853:ccd:e799::/124'],
  }),
  ipPool('expensive', { addresses: ['192.0.2.128/30'], autoAssign: false }),
  ipPool('ipv6', {
    addresses: ['2001:db8:42::/64', '2001:db8:43::5/128', '2001:db8:44::1 - 2001:db8:44::ff'],
    avoidBuggyIPs: true,
  }),
  ipPool('team', {
    addresses: ['192.0.2.192/27'],
    serviceAllocation: {
      priority: 50,
      namespaces: ['team-a', 'team-b'],
      namespaceSelectors: [{ matchLabels: { team: 'c' } }],
      serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }],
    },
  }),
];

describe('validatePoolAdmission', () => {
  it("accepts the seed's and upstream MetalLB's examples, each one applied after the others", () => {
    const all = [...SEED_POOLS, ...UPSTREAM_POOLS];
    for (const pool of all) {
      const others: ExistingPools = {
        addressPools: all.filter((p) => p.kind === 'AddressPool' && p !== pool),
        ipAddressPools: all.filter((p) => p.kind === 'IPAddressPool' && p !== pool),
      };
      expect({ name: pool.metadata.name, verdict: validatePoolAdmission(pool, others, NS) }).toEqual({
        name: pool.metadata.name,
        verdict: { allowed: true, warnings: [] },
      });
    }
  });

  it.each([
    [
      'a reversed range',
      ipPool('b', { addresses: ['203.0.113.20-203.0.113.10'] }),
      'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.20-203.0.113.10": range start 203.0.113.20 is after end 203.0.113.10',
    ],
    [
      'an address that is not one',
      ipPool('b', { addresses: ['203.0.113.0/28', '203.0.113.300'] }),
      'IPAddressPool metallb-system/b: spec.addresses[1] "203.0.113.300": not a valid IPv4 address: octet 300 > 255',
    ],
    [
      'a prefix length out of range',
      ipPool('b', { addresses: ['203.0.113.0/33'] }),
      'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.0/33": prefix length "33" is not a number from 0 to 32 for IPv4',
    ],
    [
      'a range mixing families',
      ipPool('b', { addresses: ['203.0.113.1-2001:db8::1'] }),
      'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.1-2001:db8::1": range start 203.0.113.1 is IPv4 but end 2001:db8::1 is IPv6',
    ],
    [
      'no addresses',
      ipPool('b', { addresses: [] }),
      'IPAddressPool metallb-system/b: spec.addresses []: at least one address, range or CIDR is required',
    ],
    [
      'a pool overlapping itself',
      ipPool('b', { addresses: ['203.0.113.0/28', '203.0.113.5'] }),
      'IPAddressPool metallb-system/b: spec.addresses[1] "203.0.113.5": overlaps spec.addresses[0] "203.0.113.0/28" of the same pool',
    ],
    [
      'a pool outside the MetalLB namespace',
      ipPool('b', { addresses: ['203.0.113.0/28'] }, 'default'),
      'IPAddressPool default/b: metadata.namespace "default": metallb-ts only reads IPAddressPool objects in its own namespace "metallb-system"',
    ],
    [
      'a bgp AddressPool',
      addressPool('b', { protocol: 'bgp', addresses: ['203.0.113.0/28'] }),
      'AddressPool metallb-system/b: spec.protocol "bgp": metallb-ts is layer 2 only; bgp pools are not supported',
    ],
    [
      'a namespace listed twice',
      ipPool('b', { addresses: ['203.0.113.0/28'], serviceAllocation: { namespaces: ['a', 'a'] } }),
      'IPAddressPool metallb-system/b: spec.serviceAllocation.namespaces[1] "a": namespace listed twice (also spec.serviceAllocation.namespaces[0])',
    ],
    [
      'an invalid selector',
      ipPool('b', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In' }] }] },
      }),
      'IPAddressPool metallb-system/b: spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values: must be non-empty for operator In',
    ],
    [
      'a selector key with a space',
      ipPool('b', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { 'my team': 'a' } }] },
      }),
      `IPAddressPool metallb-system/b: spec.serviceAllocation.namespaceSelectors[0].matchLabels.my team "my team": invalid label key: name "my team" must be 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
    ],
    [
      'autoAssign that is not a boolean',
      ipPool('b', { addresses: ['203.0.113.0/28'], autoAssign: 'yes' }),
      'IPAddressPool metallb-system/b: spec.autoAssign "yes": must be true or false',
    ],
  ])('refuses %s in one line', (_what, obj, message) => {
    expect(refusal(validatePoolAdmission(obj, none, NS))).toBe(message);
  });

  it('refuses an overlap with another pool, naming both pools and the shared range', () => {
    const existing: ExistingPools = {
      addressPools: [],
      ipAddressPools: [ipPool('a', { addresses: ['203.0.113.0/28'] })],
    };
    const v = validatePoolAdmission(ipPool('b', { addresses: ['203.0.113.10-203.0.113.40'] }), existing, NS);
    expect(refusal(v)).toBe(
      'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.10-203.0.113.40": overlaps pool "a" (addresses 203.0.113.10-203.0.113.15 are in both pools)',
    );
  });

  it('finds overlaps across the two kinds, and names every pool it collides with', () => {
    const existing: ExistingPools = {
      addressPools: [addressPool('legacy', { protocol: 'layer2', addresses: ['203.0.113.0/28'] })],
      ipAddressPools: [ipPool('modern', { addresses: ['203.0.113.32/28'] })],
    };
    const v = validatePoolAdmission(ipPool('wide', { addresses: ['203.0.113.0/26'] }), existing, NS);
    expect(refusal(v)).toMatch(
      /overlaps pool "legacy" \(addresses 203\.0\.113\.0\/28 are in both pools\) \(and 1 more problem\)$/,
    );
    expect(!v.allowed && v.problems).toEqual([
      'IPAddressPool metallb-system/wide: spec.addresses[0] "203.0.113.0/26": overlaps pool "legacy" (addresses 203.0.113.0/28 are in both pools)',
      'IPAddressPool metallb-system/wide: spec.addresses[0] "203.0.113.0/26": overlaps pool "modern" (addresses 203.0.113.32/28 are in both pools)',
    ]);
  });

  it('still finds an overlap with an existing pool that itself conflicts with a third', () => {
    const existing: ExistingPools = {
      addressPools: [],
      ipAddressPools: [
        ipPool('a', { addresses: ['203.0.113.0/28'] }),
        ipPool('a-clash', { addresses: ['203.0.113.0/27'] }),
      ],
    };
    const v = validatePoolAdmission(ipPool('c', { addresses: ['203.0.113.20'] }), existing, NS);
    expect(refusal(v)).toContain('overlaps pool "a-clash"');
  });

  it('refuses a name an existing pool of the other kind has', () => {
    const existing: ExistingPools = {
      addressPools: [addressPool('same', { protocol: 'layer2', addresses: ['198.51.100.0/28'] })],
      ipAddressPools: [],
    };
    expect(
      refusal(validatePoolAdmission(ipPool('same', { addresses: ['203.0.113.0/28'] }), existing, NS)),
    ).toBe(
      'IPAddressPool metallb-system/same: metadata.name "same": the name is already used by AddressPool metallb-system/same; AddressPool and IPAddressPool names must be unique together',
    );
  });

  it('an update is not compared with its own stored version; pools of other namespaces are ignored', () => {
    const stored = {
      ...ipPool('a', { addresses: ['203.0.113.0/28'] }),
      metadata: { name: 'a', namespace: NS, creationTimestamp: '2026-01-01T00:00:00Z' },
    };
    const existing: ExistingPools = {
      addressPools: [],
      ipAddressPools: [stored, ipPool('elsewhere', { addresses: ['203.0.113.0/24'] }, 'default')],
    };
    expect(validatePoolAdmission(ipPool('a', { addresses: ['203.0.113.0/27'] }), existing, NS)).toEqual({
      allowed: true,
      warnings: [],
    });
  });

  it('refuses something that is not a pool', () => {
    expect(refusal(validatePoolAdmission(l2('x'), none, NS))).toBe(
      'L2Advertisement metallb-system/x: kind "L2Advertisement": expected an AddressPool or an IPAddressPool',
    );
    expect(refusal(validatePoolAdmission(null, none, NS))).toMatch(/^pool \/<unnamed>: kind "pool"/);
  });
});

describe('validateL2AdvertisementAdmission', () => {
  it("accepts upstream's examples: empty, pinned to pools, interfaces and nodes, and by pool selector", () => {
    for (const obj of [
      l2('default'),
      l2('pinned', {
        ipAddressPools: ['first-pool', 'expensive'],
        interfaces: ['eth0', 'eth1'],
        nodeSelectors: [
          { matchLabels: { 'kubernetes.io/hostname': 'worker-a' } },
          { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] },
        ],
      }),
      l2('by-selector', {
        ipAddressPoolSelectors: [
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['east', 'west'] }] },
        ],
      }),
    ])
      expect(validateL2AdvertisementAdmission(obj, NS)).toEqual({ allowed: true, warnings: [] });
  });

  it.each([
    [
      'outside the namespace',
      l2('x', {}, 'default'),
      'L2Advertisement default/x: metadata.namespace "default": metallb-ts only reads L2Advertisement objects in its own namespace "metallb-system"',
    ],
    [
      'a bad node selector',
      l2('x', { nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['b'] }] }] }),
      'L2Advertisement metallb-system/x: spec.nodeSelectors[0].matchExpressions[0].values ["b"]: must be empty for operator Exists',
    ],
    [
      'a bad service selector',
      l2('x', { serviceSelectors: [{ matchLabels: { app: 'a b' } }] }),
      `L2Advertisement metallb-system/x: spec.serviceSelectors[0].matchLabels.app "a b": invalid label value: must be empty or 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
    ],
    [
      'an empty interface name',
      l2('x', { interfaces: ['eth0', ''] }),
      'L2Advertisement metallb-system/x: spec.interfaces ["eth0",""]: must be a list of interface names',
    ],
    [
      'an interface name Linux refuses',
      l2('x', { interfaces: ['eth 0'] }),
      `L2Advertisement metallb-system/x: spec.interfaces[0] "eth 0": not a Linux interface name (no spaces, '/' or ':')`,
    ],
    [
      'an interface name that is too long',
      l2('x', { interfaces: ['a-very-long-interface'] }),
      'L2Advertisement metallb-system/x: spec.interfaces[0] "a-very-long-interface": longer than 15 characters, the Linux limit for interface names',
    ],
  ])('refuses %s', (_what, obj, message) => {
    expect(refusal(validateL2AdvertisementAdmission(obj, NS))).toBe(message);
  });

  it('warns (does not refuse) about a pool that does not exist, when given the pools', () => {
    const existing: ExistingPools = {
      addressPools: [],
      ipAddressPools: [ipPool('real', { addresses: ['203.0.113.0/28'] })],
    };
    expect(
      validateL2AdvertisementAdmission(l2('x', { ipAddressPools: ['real', 'ghost'] }), NS, existing),
    ).toEqual({
      allowed: true,
      warnings: ['L2Advertisement metallb-system/x: spec.ipAddressPools[1] "ghost": no such IPAddressPool'],
    });
  });
});

describe('validateMetalLB', () => {
  it("accepts the seed's MetalLB resource and a full upstream-style one", () => {
    expect(validateMetalLB(metallb())).toEqual({ allowed: true, warnings: [] });
    expect(validateMetalLB(metallb({ nodeSelector: { 'node-role.kubernetes.io/worker': '' } }))).toEqual({
      allowed: true,
      warnings: [],
    });
    const full = metallb({
      logLevel: 'debug',
      loadBalancerClass: 'metallb.io/metallb',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      controllerNodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
      speakerTolerations: [
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        { operator: 'Exists' },
      ],
      controllerTolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
      controllerConfig: {
        priorityClassName: 'system-cluster-critical',
        runtimeClassName: 'runc',
        annotations: { 'example.com/owner': 'network team' },
        resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: 'kubernetes.io/hostname',
                  labelSelector: { matchLabels: { app: 'metallb' } },
                },
              },
            ],
          },
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] },
              ],
            },
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } },
            ],
          },
        },
      },
      speakerConfig: { priorityClassName: 'system-node-critical', resources: { requests: { cpu: 0.1 } } },
    });
    expect(validateMetalLB(full)).toEqual({ allowed: true, warnings: [] });
  });

  it.each([
    [
      'bgpBackend',
      { bgpBackend: 'frr' },
      'MetalLB metallb-system/metallb: spec.bgpBackend "frr": metallb-ts is layer 2 only; BGP settings are not supported',
    ],
    [
      'bgpType',
      { bgpType: 'native' },
      'MetalLB metallb-system/metallb: spec.bgpType "native": metallb-ts is layer 2 only; BGP settings are not supported',
    ],
    [
      'frrk8sConfig',
      { frrk8sConfig: { alwaysBlock: ['192.0.2.0/24'] } },
      'MetalLB metallb-system/metallb: spec.frrk8sConfig {"alwaysBlock":["192.0.2.0/24"]}: metallb-ts is layer 2 only; BGP settings are not supported',
    ],
    [
      'an unknown log level',
      { logLevel: 'verbose' },
      'MetalLB metallb-system/metallb: spec.logLevel "verbose": must be one of all, debug, info, warn, error, none',
    ],
    [
      'tolerationSeconds without NoExecute',
      { speakerTolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }] },
      'MetalLB metallb-system/metallb: spec.speakerTolerations[0].tolerationSeconds 30: only allowed with effect NoExecute (effect is "NoSchedule")',
    ],
    [
      'a value with operator Exists',
      { controllerTolerations: [{ key: 'a', operator: 'Exists', value: 'b' }] },
      'MetalLB metallb-system/metallb: spec.controllerTolerations[0].value "b": must be empty with operator Exists',
    ],
    [
      'an empty key with operator Equal',
      { controllerTolerations: [{ operator: 'Equal', value: 'b' }] },
      'MetalLB metallb-system/metallb: spec.controllerTolerations[0].operator "Equal": an empty key (every taint) needs operator Exists',
    ],
    [
      'a preferred affinity weight of 0',
      {
        speakerConfig: {
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }],
            },
          },
        },
      },
      'MetalLB metallb-system/metallb: spec.speakerConfig.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight 0: must be an integer from 1 to 100',
    ],
    [
      'a preferred pod affinity weight of 101',
      {
        controllerConfig: {
          affinity: {
            podAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 101, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
        },
      },
      'MetalLB metallb-system/metallb: spec.controllerConfig.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight 101: must be an integer from 1 to 100',
    ],
    [
      'a pod affinity term without topologyKey',
      {
        speakerConfig: {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{}] } },
        },
      },
      'MetalLB metallb-system/metallb: spec.speakerConfig.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: is required (a node label such as kubernetes.io/hostname)',
    ],
    [
      'an unknown affinity field (the schema keeps affinity as is, so the webhook checks it)',
      { speakerConfig: { affinity: { nodeAfinity: {} } } },
      'MetalLB metallb-system/metallb: spec.speakerConfig.affinity.nodeAfinity: unknown field (known: nodeAffinity, podAffinity, podAntiAffinity)',
    ],
    [
      'a malformed quantity',
      { controllerConfig: { resources: { limits: { memory: '128 MB' } } } },
      'MetalLB metallb-system/metallb: spec.controllerConfig.resources.limits.memory "128 MB": not a quantity (like 100m, 128Mi or 2)',
    ],
    [
      'a request above its limit',
      { controllerConfig: { resources: { limits: { cpu: '100m' }, requests: { cpu: '1' } } } },
      'MetalLB metallb-system/metallb: spec.controllerConfig.resources.requests.cpu "1": must be less than or equal to the limit "100m"',
    ],
    [
      'a bad node selector key',
      { nodeSelector: { 'bad key': 'x' } },
      `MetalLB metallb-system/metallb: spec.nodeSelector "bad key": invalid key: name "bad key" must be 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
    ],
    [
      'a priority class name with capitals',
      { speakerConfig: { priorityClassName: 'High' } },
      'MetalLB metallb-system/metallb: spec.speakerConfig.priorityClassName "High": must be a DNS subdomain (lower case alphanumerics, - and .)',
    ],
  ])('refuses %s', (_what, spec, message) => {
    expect(refusal(validateMetalLB(metallb(spec)))).toBe(message);
  });

  it('counts further problems in the one line and lists them all', () => {
    const v = validateMetalLB(metallb({ bgpBackend: 'frr', logLevel: 'loud' }));
    expect(refusal(v)).toMatch(/BGP settings are not supported \(and 1 more problem\)$/);
    expect(!v.allowed && v.problems).toHaveLength(2);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['128Mi', 128 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['.5', 0.5],
    [2, 2],
  ])('%s = %d', (text, value) => expect(parseQuantity(text)).toBeCloseTo(value));
  it.each([['-1'], ['1 Gi'], ['abc'], [''], [-1], [null]])('%s is not a quantity', (text) =>
    expect(parseQuantity(text)).toBeUndefined(),
  );
});
