import { describe, expect, it } from '@jest/globals';
import { fuzzBuildConfig } from '../fuzz/build-config.fuzz.js';

describe('buildConfig fuzz (small run of the fuzz driver)', () => {
  it('never throws, mutates or reports malformed errors on 20k random object sets', () => {
    const summary = fuzzBuildConfig(20_000, 424242);
    expect(summary.findings).toEqual([]);
    expect(summary.poolsBuilt).toBeGreaterThan(1000);
    expect(summary.errorsReported).toBeGreaterThan(1000);
  });
});
