import { describe, expect, it } from '@jest/globals';
import { CONFIG_FOLD_MS, configReloadDelay } from '../src/config-reload.js';

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
