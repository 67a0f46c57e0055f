import { describe, expect, it } from '@jest/globals';
import { fuzzArgs, seededRandom } from '../src/index.js';

describe('seededRandom', () => {
  it('replays the same sequence for the same seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
  it('differs across seeds', () => {
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });
});

describe('fuzzArgs', () => {
  it('reads iterations and seed, and names a bad one', () => {
    expect(fuzzArgs(['10', '7'])).toEqual({ iterations: 10, seed: 7 });
    expect(fuzzArgs([]).iterations).toBe(1_000_000);
    expect(() => fuzzArgs(['many'])).toThrow('iterations "many"');
  });
});
