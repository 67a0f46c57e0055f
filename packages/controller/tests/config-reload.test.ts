import { describe, expect, it } from '@jest/globals';
import { buildConfig } from '@metallb-ts/api';
import {
  CONFIG_FOLD_MS,
  configReloadDelay,
  READ_AHEAD_PASSES,
  READ_SLICE_MS,
  readAddressListsAhead,
  samePools,
} from '../src/config-reload.js';

describe('configReloadDelay', () => {
  it('folds a burst for at least CONFIG_FOLD_MS when reloads are cheap', () => {
    expect(configReloadDelay(0)).toBe(CONFIG_FOLD_MS);
    expect(configReloadDelay(10)).toBe(CONFIG_FOLD_MS);
  });

  it('leaves twice the last reload time to everything else when reloads are costly', () => {
    expect(configReloadDelay(3_500)).toBe(7_000);
    expect(configReloadDelay(60.2)).toBe(121);
  });
});

describe('readAddressListsAhead', () => {
  const pool = (i: number) => ({ spec: { addresses: [`2001:db8:3::${i.toString(16)}`] } });

  it('pauses whenever a slice of READ_SLICE_MS is spent, and reads what arrived during a pause', async () => {
    let clock = 0;
    const objects = [pool(1), pool(2), pool(3), { spec: { addresses: 'not-a-list' } }, {}];
    let pauses = 0;
    const read = await readAddressListsAhead(
      () => [...objects],
      async () => {
        pauses++;
        if (pauses === 1) objects.push(pool(4), pool(5));
      },
      // Every list read costs half a slice on this clock.
      () => (clock += READ_SLICE_MS / 2),
    );
    expect(read).toBe(5);
    expect(pauses).toBeGreaterThanOrEqual(2);
  });

  it('gives up after READ_AHEAD_PASSES when objects keep arriving', async () => {
    const objects = [pool(1)];
    let passes = 0;
    const read = await readAddressListsAhead(
      () => {
        passes++;
        objects.push(pool(100 + passes));
        return objects;
      },
      async () => {},
    );
    expect(passes).toBe(READ_AHEAD_PASSES);
    expect(read).toBe(READ_AHEAD_PASSES + 1);
  });
});

describe('samePools', () => {
  const config = (addresses: string[], extra: Record<string, unknown> = {}) =>
    buildConfig({
      addressPools: [],
      ipAddressPools: [
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'IPAddressPool',
          metadata: { name: 'a', namespace: 'metallb-system' },
          spec: { addresses, ...extra },
        },
      ],
      l2Advertisements: [],
    }).config.pools;

  it('is true for the same pools built from new copies of the objects', () => {
    expect(samePools(config(['10.0.0.0/24']), config(['10.0.0.0/24']))).toBe(true);
  });

  it('is false when a range, a flag, the service allocation or the pool set differs', () => {
    const base = config(['10.0.0.0/24']);
    expect(samePools(undefined, base)).toBe(false);
    expect(samePools(base, config(['10.0.0.0/25']))).toBe(false);
    expect(samePools(base, config(['10.0.0.0/24'], { autoAssign: false }))).toBe(false);
    expect(samePools(base, config(['10.0.0.0/24'], { serviceAllocation: { priority: 1 } }))).toBe(false);
    expect(samePools(base, [])).toBe(false);
  });
});
