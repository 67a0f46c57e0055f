import { describe, expect, it } from '@jest/globals';
import { MAX_STATUS_COUNT, poolStatusFor } from '../src/index.js';

describe('poolStatusFor', () => {
  it('maps allocator stats to status fields, capping huge IPv6 counts', () => {
    const stats = [
      { pool: 'p', family: 4 as const, total: 16n, inUse: 3n, available: 13n },
      { pool: 'p', family: 6 as const, total: 2n ** 64n, inUse: 1n, available: 2n ** 64n - 1n },
      { pool: 'q', family: 4 as const, total: 4n, inUse: 4n, available: 0n },
    ];
    expect(poolStatusFor(stats, 'p')).toEqual({
      assignedIPv4: 3,
      availableIPv4: 13,
      assignedIPv6: 1,
      availableIPv6: MAX_STATUS_COUNT,
    });
    expect(poolStatusFor(stats, 'q')).toEqual({
      assignedIPv4: 4,
      availableIPv4: 0,
      assignedIPv6: 0,
      availableIPv6: 0,
    });
    expect(JSON.parse(JSON.stringify(poolStatusFor(stats, 'p'))).availableIPv6).toBe(MAX_STATUS_COUNT);
  });
});
