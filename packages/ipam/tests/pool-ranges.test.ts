import { describe, expect, it } from '@jest/globals';
import { buildPoolSet, parseIp, PoolRanges } from '../src/index.js';

const spec = (name: string, addresses: string[]) => ({
  name,
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
});

describe('PoolRanges', () => {
  it('finds the pool of an address at range edges, per family, and nothing in the gaps', () => {
    const { pools, errors } = buildPoolSet([
      spec('b', ['10.0.0.10-10.0.0.19', '2001:db8::/126']),
      spec('a', ['10.0.0.0-10.0.0.9', '10.0.0.30/31']),
    ]);
    expect(errors).toEqual([]);
    const index = new PoolRanges(pools);
    const poolOf = (ip: string) => {
      const parsed = parseIp(ip);
      if (!parsed.ok) throw new Error(parsed.error);
      return index.poolOf(parsed.value);
    };
    expect(
      ['10.0.0.0', '10.0.0.9', '10.0.0.10', '10.0.0.19', '10.0.0.20', '10.0.0.31', '10.0.0.32'].map(poolOf),
    ).toEqual(['a', 'a', 'b', 'b', undefined, 'a', undefined]);
    // ::a00:0 has the same value as 10.0.0.0 in another family.
    expect(['2001:db8::3', '2001:db8::4', '::a00:0'].map(poolOf)).toEqual(['b', undefined, undefined]);
    expect(new PoolRanges([]).poolOf({ family: 4, value: 0n })).toBeUndefined();
  });
});
