import { describe, expect, it } from '@jest/globals';
import { fuzzAddressSpec } from '../fuzz/address-spec.fuzz.js';

describe('parseAddressSpec fuzz (small run of the fuzz driver)', () => {
  it('gives typed results for 20k random and mutated inputs', () => {
    const summary = fuzzAddressSpec(20_000, 20240601);
    expect(summary.findings).toEqual([]);
    // Both branches must actually be exercised for the run to mean anything.
    expect(summary.accepted).toBeGreaterThan(1000);
    expect(summary.rejected).toBeGreaterThan(1000);
  });
});
