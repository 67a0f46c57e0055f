import { describe, expect, it } from '@jest/globals';
import { ADDRESS_PATTERN, crds } from '../src/index.js';
import type { Schema } from '../src/index.js';

interface Version {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: Schema };
  subresources: { status: object };
  additionalPrinterColumns: { name: string; jsonPath: string }[];
}
interface Crd {
  metadata: { name: string };
  spec: { group: string; names: { kind: string; plural: string }; versions: Version[] };
}

const all = crds() as unknown as Crd[];
const byKind = (kind: string): Crd => all.find((c) => c.spec.names.kind === kind)!;

describe('crds()', () => {
  it('defines the five kinds in group metallb.io', () => {
    expect(all.map((c) => c.metadata.name).sort()).toEqual([
      'addresspools.metallb.io',
      'ipaddresspools.metallb.io',
      'l2advertisements.metallb.io',
      'metallbs.metallb.io',
      'servicel2statuses.metallb.io',
    ]);
    for (const crd of all) expect(crd.spec.group).toBe('metallb.io');
  });

  it('serves AddressPool and MetalLB in v1alpha1 and v1beta1 with v1beta1 stored and identical schemas', () => {
    for (const kind of ['AddressPool', 'MetalLB']) {
      const versions = byKind(kind).spec.versions;
      expect(versions.map((v) => [v.name, v.served, v.storage])).toEqual([
        ['v1beta1', true, true],
        ['v1alpha1', true, false],
      ]);
      expect(versions[0]!.schema).toEqual(versions[1]!.schema);
    }
  });

  it('has exactly one storage version, a status subresource and printer columns everywhere', () => {
    for (const crd of all) {
      expect(crd.spec.versions.filter((v) => v.storage)).toHaveLength(1);
      for (const v of crd.spec.versions) {
        expect(v.subresources).toEqual({ status: {} });
        expect(v.additionalPrinterColumns.length).toBeGreaterThan(0);
      }
    }
  });

  it('requires protocol (layer2|bgp) and addresses on AddressPool, defaults autoAssign to true', () => {
    const spec = byKind('AddressPool').spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
    expect(spec.required).toEqual(['protocol', 'addresses']);
    expect(spec.properties!.protocol!.enum).toEqual(['layer2', 'bgp']);
    expect(spec.properties!.autoAssign).toMatchObject({ type: 'boolean', default: true });
    expect(spec.properties!.addresses).toMatchObject({ type: 'array', minItems: 1 });
  });

  it('shows addresses, auto-assign and usage from status in IPAddressPool columns', () => {
    const cols = byKind('IPAddressPool').spec.versions[0]!.additionalPrinterColumns.map((c) => c.jsonPath);
    expect(cols).toEqual(
      expect.arrayContaining([
        '.spec.addresses',
        '.spec.autoAssign',
        '.status.assignedIPv4',
        '.status.availableIPv4',
      ]),
    );
  });

  it('shows the Valid condition (status, reason; message when wide) on pools and advertisements', () => {
    for (const kind of ['IPAddressPool', 'AddressPool', 'L2Advertisement']) {
      for (const v of byKind(kind).spec.versions) {
        const cols = v.additionalPrinterColumns as { name: string; jsonPath: string; priority?: number }[];
        expect(cols).toEqual(
          expect.arrayContaining([
            { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].reason' },
            expect.objectContaining({ name: 'Message', priority: 1 }),
          ]),
        );
        const status = v.schema.openAPIV3Schema.properties!['status']!;
        expect(status.properties!['conditions']!['x-kubernetes-list-map-keys']).toEqual(['type']);
        expect(status.properties!['conditions']!.items!.required).toEqual(
          expect.arrayContaining(['type', 'status', 'reason', 'message', 'lastTransitionTime']),
        );
      }
    }
  });
});

describe('ADDRESS_PATTERN', () => {
  const re = new RegExp(ADDRESS_PATTERN);
  it.each([
    '203.0.113.0/28',
    '203.0.113.5',
    '203.0.113.5/32',
    '203.0.113.10-203.0.113.20',
    '203.0.113.10 - 203.0.113.20',
    '2001:db8::/120',
    '2001:db8::1',
    '2001:db8::1-2001:db8::9',
    '::/0',
  ])('accepts %s', (spec) => expect(re.test(spec)).toBe(true));
  it.each([
    '203.0.113.300',
    '203.0.113.0/33',
    'foo',
    '',
    '203.0.113',
    '2001:db8::/129',
    '10.0.0.1-',
    '1.2.3.4/',
  ])('refuses %s', (spec) => expect(re.test(spec)).toBe(false));
});

describe('MetalLB schema: layer 2 only, nothing hidden', () => {
  const spec = byKind('MetalLB').spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;

  it('declares bgpBackend and bgpType only to refuse them with a CEL rule saying layer 2 only', () => {
    expect(spec.properties!.bgpBackend!.type).toBe('string');
    expect(spec.properties!.bgpType!.type).toBe('string');
    expect(spec['x-kubernetes-validations']).toEqual([
      expect.objectContaining({
        rule: '!has(self.bgpBackend) && !has(self.bgpType)',
        message: expect.stringContaining('layer 2 only'),
      }),
    ]);
  });

  it('keeps unknown fields only inside affinity and resources (the admission webhook checks their shape)', () => {
    const preserved: string[] = [];
    const walk = (s: Schema, path: string): void => {
      if (s['x-kubernetes-preserve-unknown-fields']) preserved.push(path);
      for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    walk(spec, 'spec');
    expect(preserved.sort()).toEqual([
      'spec.controllerConfig.affinity',
      'spec.controllerConfig.resources',
      'spec.speakerConfig.affinity',
      'spec.speakerConfig.resources',
    ]);
  });
});
