import { describe, expect, it } from '@jest/globals';
import { buildPoolSet } from '../src/index.js';
import type { PoolSpec } from '../src/index.js';

const spec = (name: string, addresses: string[], extra: Partial<PoolSpec> = {}): PoolSpec => ({
  name,
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
  ...extra,
});

describe('buildPoolSet', () => {
  it('builds valid pools with sorted ranges and families', () => {
    const { pools, errors } = buildPoolSet([spec('a', ['2001:db8::/120', '203.0.113.0/28'])]);
    expect(errors).toEqual([]);
    expect(pools).toHaveLength(1);
    expect(pools[0]!.families).toEqual([4, 6]);
    expect(pools[0]!.ranges.map((r) => r.family)).toEqual([4, 6]);
  });

  it('reports a bad address with the field and keeps the other pools', () => {
    const { pools, errors } = buildPoolSet([
      spec('good', ['203.0.113.0/28']),
      spec('bad', ['203.0.113.32/28', '203.0.113.300']),
    ]);
    expect(pools.map((p) => p.name)).toEqual(['good']);
    expect(errors).toEqual([
      {
        pool: 'bad',
        field: 'spec.addresses[1]',
        value: '203.0.113.300',
        reason: 'not a valid IPv4 address: octet 300 > 255',
        message: 'pool "bad": spec.addresses[1] "203.0.113.300": not a valid IPv4 address: octet 300 > 255',
      },
    ]);
  });

  it('names both pools and the overlapping range on overlap', () => {
    const { pools, errors } = buildPoolSet([
      spec('first', ['203.0.113.0/28']),
      spec('second', ['203.0.113.10-203.0.113.40']),
    ]);
    expect(pools.map((p) => p.name)).toEqual(['first']);
    expect(errors[0]!.pool).toBe('second');
    expect(errors[0]!.reason).toBe(
      'overlaps pool "first" (addresses 203.0.113.10-203.0.113.15 are in both pools)',
    );
  });

  it('refuses overlap inside one pool, duplicate names, empty lists and bad serviceAllocation', () => {
    const { pools, errors } = buildPoolSet([
      spec('self', ['10.0.0.0/24', '10.0.0.5']),
      spec('dup', ['10.1.0.0/24']),
      spec('dup', ['10.2.0.0/24']),
      spec('empty', []),
      spec('sel', ['10.3.0.0/24'], {
        serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In' }] }] },
      }),
      spec('prio', ['10.4.0.0/24'], { serviceAllocation: { priority: -1 } }),
    ]);
    expect(pools.map((p) => p.name)).toEqual(['dup']);
    expect(errors.map((e) => [e.pool, e.field])).toEqual([
      ['self', 'spec.addresses[1]'],
      ['dup', 'metadata.name'],
      ['empty', 'spec.addresses'],
      ['sel', 'spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].values'],
      ['prio', 'spec.serviceAllocation.priority'],
    ]);
  });

  it('refuses a namespace or a selector listed twice in serviceAllocation, naming both places', () => {
    const { pools, errors } = buildPoolSet([
      spec('ns', ['10.5.0.0/24'], { serviceAllocation: { namespaces: ['a', 'b', 'a'] } }),
      spec('sel', ['10.6.0.0/24'], {
        serviceAllocation: {
          serviceSelectors: [{ matchLabels: { app: 'x' } }, { matchLabels: { app: 'x' } }],
        },
      }),
      spec('fine', ['10.7.0.0/24'], {
        serviceAllocation: { namespaces: ['a', 'b'], serviceSelectors: [{ matchLabels: { app: 'x' } }, {}] },
      }),
    ]);
    expect(pools.map((p) => p.name)).toEqual(['fine']);
    expect(errors.map((e) => e.message)).toEqual([
      'pool "ns": spec.serviceAllocation.namespaces[2] "a": namespace listed twice (also spec.serviceAllocation.namespaces[0])',
      'pool "sel": spec.serviceAllocation.serviceSelectors[1]: the same selector as spec.serviceAllocation.serviceSelectors[0]',
    ]);
  });

  it('does not mutate its input', () => {
    const input = [spec('a', ['10.0.0.0/24'], { serviceAllocation: { namespaces: ['x'] } })];
    const copy = structuredClone(input);
    const { pools } = buildPoolSet(input);
    expect(input).toEqual(copy);
    expect(pools[0]!.serviceAllocation).not.toBe(input[0]!.serviceAllocation);
  });
});
