import { describe, expect, it } from '@jest/globals';
import { buildConfig, l2AnnouncementFor } from '../src/index.js';
import type { AddressPool, IPAddressPool, L2Advertisement } from '../src/index.js';

const ns = 'metallb-system';
const ipPool = (
  name: string,
  spec: Partial<IPAddressPool['spec']> & { addresses: string[] },
  labels?: Record<string, string>,
): IPAddressPool => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec,
});
const legacy = (name: string, spec: Partial<AddressPool['spec']> & { addresses: string[] }): AddressPool => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'AddressPool',
  metadata: { name, namespace: ns },
  spec: { protocol: 'layer2', ...spec },
});
const adv = (name: string, spec: L2Advertisement['spec']): L2Advertisement => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'L2Advertisement',
  metadata: { name, namespace: ns },
  spec,
});

describe('buildConfig', () => {
  it('applies defaults and turns a legacy layer2 AddressPool into an announce-everywhere rule', () => {
    const { config, errors } = buildConfig({
      addressPools: [legacy('old', { addresses: ['203.0.113.0/28'] })],
      ipAddressPools: [ipPool('new', { addresses: ['203.0.113.16/28'] })],
      l2Advertisements: [],
    });
    expect(errors).toEqual([]);
    expect(config.pools.map((p) => [p.name, p.autoAssign, p.avoidBuggyIPs])).toEqual([
      ['new', true, false],
      ['old', true, false],
    ]);
    expect(config.l2).toEqual([
      {
        source: { kind: 'AddressPool', namespace: ns, name: 'old' },
        pools: ['old'],
        nodeSelectors: [],
        interfaces: [],
        serviceSelectors: [],
      },
    ]);
    expect(l2AnnouncementFor(config, 'old', { name: 'node-1', labels: {} })).toEqual({
      announce: true,
      interfaces: [],
    });
    expect(l2AnnouncementFor(config, 'new', { name: 'node-1', labels: {} })).toEqual({
      announce: false,
      interfaces: [],
    });
  });

  it('reports a bad address with kind, name, field and value, and keeps the rest', () => {
    const { config, errors } = buildConfig({
      addressPools: [],
      ipAddressPools: [
        ipPool('bad', { addresses: ['203.0.113.300'] }),
        ipPool('good', { addresses: ['203.0.113.0/28'] }),
      ],
      l2Advertisements: [],
    });
    expect(config.pools.map((p) => p.name)).toEqual(['good']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      kind: 'IPAddressPool',
      namespace: ns,
      name: 'bad',
      field: 'spec.addresses[0]',
      value: '203.0.113.300',
    });
    expect(errors[0]!.message).toBe(
      'IPAddressPool metallb-system/bad: spec.addresses[0] "203.0.113.300": not a valid IPv4 address: octet 300 > 255',
    );
  });

  it('refuses bgp AddressPools loudly and a missing protocol', () => {
    const { config, errors } = buildConfig({
      addressPools: [
        legacy('b', { protocol: 'bgp', addresses: ['10.0.0.0/24'] }),
        { ...legacy('n', { addresses: ['10.1.0.0/24'] }), spec: { addresses: ['10.1.0.0/24'] } as never },
      ],
      ipAddressPools: [],
      l2Advertisements: [],
    });
    expect(config.pools).toEqual([]);
    expect(errors.map((e) => [e.name, e.field])).toEqual([
      ['b', 'spec.protocol'],
      ['n', 'spec.protocol'],
    ]);
    expect(errors[0]!.message).toContain('layer 2 only');
  });

  it('shares one name space between AddressPool and IPAddressPool and names both', () => {
    const { config, errors } = buildConfig({
      addressPools: [legacy('same', { addresses: ['10.0.0.0/24'] })],
      ipAddressPools: [ipPool('same', { addresses: ['10.1.0.0/24'] })],
      l2Advertisements: [],
    });
    expect(config.pools.map((p) => p.ranges.length)).toEqual([1]);
    // The served pool says which object it came from, so the loser's status is not written.
    expect(config.pools.map((p) => p.source)).toEqual([{ kind: 'AddressPool', namespace: ns, name: 'same' }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      'IPAddressPool metallb-system/same: metadata.name "same": the name is already used by AddressPool metallb-system/same; AddressPool and IPAddressPool names must be unique together',
    );
  });

  it('reports overlapping pools on the later one, naming the other, independent of input order', () => {
    const a = ipPool('a', { addresses: ['10.0.0.0/24'] });
    const b = ipPool('b', { addresses: ['10.0.0.128/25'] });
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const { config, errors } = buildConfig({
        addressPools: [],
        ipAddressPools: order,
        l2Advertisements: [],
      });
      expect(config.pools.map((p) => p.name)).toEqual(['a']);
      expect(errors.map((e) => e.message)).toEqual([
        'IPAddressPool metallb-system/b: spec.addresses[0] "10.0.0.128/25": overlaps pool "a" (addresses 10.0.0.128/25 are in both pools)',
      ]);
    }
  });

  it('lets the older of two overlapping pools win, even when the newer sorts first by name', () => {
    const created = (pool: IPAddressPool, at: string): IPAddressPool => ({
      ...pool,
      metadata: { ...pool.metadata, creationTimestamp: at },
    });
    const older = created(ipPool('zeta', { addresses: ['10.0.0.0/24'] }), '2024-01-01T00:00:00Z');
    const newer = created(ipPool('alpha', { addresses: ['10.0.0.128/25'] }), '2024-06-01T00:00:00Z');
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const { config, errors } = buildConfig({
        addressPools: [],
        ipAddressPools: order,
        l2Advertisements: [],
      });
      expect(config.pools.map((p) => p.name)).toEqual(['zeta']);
      expect(errors.map((e) => e.message)).toEqual([
        'IPAddressPool metallb-system/alpha: spec.addresses[0] "10.0.0.128/25": overlaps pool "zeta" (addresses 10.0.0.128/25 are in both pools)',
      ]);
    }
  });

  it('resolves L2Advertisements: names, selectors, none = all pools; node selectors and interfaces', () => {
    const { config, errors } = buildConfig({
      addressPools: [],
      ipAddressPools: [
        ipPool('a', { addresses: ['10.0.0.0/24'] }, { zone: 'x' }),
        ipPool('b', { addresses: ['10.1.0.0/24'] }),
        ipPool('c', { addresses: ['10.2.0.0/24'] }),
      ],
      l2Advertisements: [
        adv('all', {}),
        adv('by-label', {
          ipAddressPoolSelectors: [{ matchLabels: { zone: 'x' } }],
          nodeSelectors: [{ matchLabels: { role: 'edge' } }],
          interfaces: ['eth1', 'eth0'],
        }),
        adv('by-name', {
          ipAddressPools: ['b', 'ghost'],
          interfaces: ['eth2'],
          nodeSelectors: [{ matchLabels: { role: 'edge' } }],
        }),
      ],
    });
    expect(errors.map((e) => e.message)).toEqual([
      'L2Advertisement metallb-system/by-name: spec.ipAddressPools[1] "ghost": no such IPAddressPool',
    ]);
    expect(config.l2.map((r) => [r.source.name, r.pools])).toEqual([
      ['all', ['a', 'b', 'c']],
      ['by-label', ['a']],
      ['by-name', ['b']],
    ]);
    const edge = { name: 'n1', labels: { role: 'edge' } };
    const plain = { name: 'n2', labels: {} };
    // "all" covers every node and interface, so edge nodes announce on all interfaces too.
    expect(l2AnnouncementFor(config, 'a', edge)).toEqual({ announce: true, interfaces: [] });
    const onlyRules = { pools: config.pools, l2: config.l2.filter((r) => r.source.name !== 'all') };
    expect(l2AnnouncementFor(onlyRules, 'a', edge)).toEqual({ announce: true, interfaces: ['eth0', 'eth1'] });
    expect(l2AnnouncementFor(onlyRules, 'a', plain)).toEqual({ announce: false, interfaces: [] });
    expect(l2AnnouncementFor(onlyRules, 'b', edge)).toEqual({ announce: true, interfaces: ['eth2'] });
    expect(l2AnnouncementFor(onlyRules, 'c', edge)).toEqual({ announce: false, interfaces: [] });
  });

  it('validates selectors and pool fields with their paths', () => {
    const { errors } = buildConfig({
      addressPools: [],
      ipAddressPools: [
        ipPool('s', {
          addresses: ['10.0.0.0/24'],
          serviceAllocation: {
            namespaceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Bad' as never }] }],
          },
        }),
        ipPool('t', { addresses: ['10.1.0.0/24'], autoAssign: 'yes' as never }),
      ],
      l2Advertisements: [adv('x', { nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In' }] }] })],
    });
    expect(errors.map((e) => `${e.kind}/${e.name} ${e.field}`)).toEqual([
      'IPAddressPool/s spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].operator',
      'IPAddressPool/t spec.autoAssign',
      'L2Advertisement/x spec.nodeSelectors[0].matchExpressions[0].values',
    ]);
  });

  it('does not mutate its input', () => {
    const input = {
      addressPools: [legacy('old', { addresses: ['10.9.0.0/24'] })],
      ipAddressPools: [ipPool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { namespaces: ['x'] } })],
      l2Advertisements: [adv('all', { interfaces: ['b', 'a'] })],
    };
    const copy = structuredClone(input);
    buildConfig(input);
    expect(input).toEqual(copy);
  });
});
