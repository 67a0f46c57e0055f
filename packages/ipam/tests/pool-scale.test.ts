import { describe, expect, it } from '@jest/globals';
import { buildPoolSet, parseAddressList, PoolRanges } from '../src/index.js';
import type { PoolSpec } from '../src/index.js';

const spec = (name: string, addresses: string[]): PoolSpec => ({
  name,
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
});

/** Deterministic shuffle (LCG), so the index sees inserts all over its blocks. */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('buildPoolSet at scale', () => {
  it('finds an overlap with any of 3,000 pools inserted in random order (the index splits into blocks)', () => {
    const singles = shuffled(Array.from({ length: 3000 }, (_, i) => i)).map((i) =>
      spec(`p${i}`, [`2001:db8::${(i * 2 + 2).toString(16)}`]),
    );
    const probes = [0, 1, 777, 2999].map((i) =>
      spec(`probe-${i}`, [`2001:db8::${(i * 2 + 2).toString(16)}`]),
    );
    const between = spec('between', ['2001:db8::1', '2001:db8::3', '2001:db8::bb7']);
    const { pools, errors } = buildPoolSet([...singles, ...probes, between]);
    expect(pools).toHaveLength(3001);
    expect(pools.at(-1)!.name).toBe('between');
    expect(errors.map((e) => [e.pool, e.reason])).toEqual(
      [0, 1, 777, 2999].map((i) => [
        `probe-${i}`,
        `overlaps pool "p${i}" (addresses 2001:db8::${(i * 2 + 2).toString(16)} are in both pools)`,
      ]),
    );
  });

  it('reports the first entry that overlaps another pool, even among thousands of consecutive ones', () => {
    const list = Array.from({ length: 2000 }, (_, i) => `2001:db8:1::${i.toString(16)}/128`);
    const { errors } = buildPoolSet([spec('holder', ['2001:db8:1::500-2001:db8:1::501']), spec('big', list)]);
    expect(errors.map((e) => [e.pool, e.field, e.value])).toEqual([
      ['big', 'spec.addresses[1280]', '2001:db8:1::500/128'],
    ]);
  });

  it('reports an unreadable entry after an overlap only when no earlier entry overlaps', () => {
    const holder = spec('holder', ['10.0.0.5']);
    const early = buildPoolSet([holder, spec('x', ['10.0.0.4', '10.0.0.5', 'nonsense'])]);
    expect(early.errors.map((e) => e.field)).toEqual(['spec.addresses[1]']);
    const late = buildPoolSet([holder, spec('x', ['10.0.0.4', 'nonsense', '10.0.0.5'])]);
    expect(late.errors.map((e) => e.field)).toEqual(['spec.addresses[1]']);
    expect(late.errors[0]!.reason).toContain('not a valid');
  });
});

describe('parseAddressList', () => {
  it('reads a list again when it changed in place', () => {
    const list = ['10.0.0.1', '10.0.0.2'];
    expect(parseAddressList(list).ranges).toHaveLength(2);
    list[1] = '10.0.0.1';
    expect(parseAddressList(list).bad?.reason).toBe('overlaps spec.addresses[0] "10.0.0.1" of the same pool');
  });

  it('gives an equal list in a new array the remembered result, and joins adjacent entries', () => {
    const text = Array.from({ length: 300 }, (_, i) => `2001:db8:2::${i.toString(16)}`);
    const first = parseAddressList(text);
    expect(parseAddressList([...text])).toBe(first);
    expect(first.merged).toEqual([
      { family: 6, first: first.sorted[0]!.first, last: first.sorted[299]!.last },
    ]);
  });
});

describe('PoolRanges over joined ranges', () => {
  it('finds the pool of every address of a pool listed one address at a time, and none beside it', () => {
    const list = Array.from({ length: 500 }, (_, i) => `10.9.${i >> 8}.${i & 255}`);
    const { pools } = buildPoolSet([spec('one-by-one', list), spec('next', ['10.9.1.244'])]);
    const ranges = new PoolRanges(pools);
    expect(ranges.poolOf({ family: 4, value: (10n << 24n) | (9n << 16n) })).toBe('one-by-one');
    expect(ranges.poolOf({ family: 4, value: (10n << 24n) | (9n << 16n) | (1n << 8n) | 243n })).toBe(
      'one-by-one',
    );
    expect(ranges.poolOf({ family: 4, value: (10n << 24n) | (9n << 16n) | (1n << 8n) | 244n })).toBe('next');
    expect(
      ranges.poolOf({ family: 4, value: (10n << 24n) | (9n << 16n) | (1n << 8n) | 245n }),
    ).toBeUndefined();
  });
});
