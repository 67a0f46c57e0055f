import { describe, expect, it } from '@jest/globals';
import {
  configInputChanged,
  LAST_VALID_SPEC_ANNOTATION,
  LastGoodConfig,
  l2AnnouncementFor,
  poolOfAddress,
} from '../src/index.js';
import type { IPAddressPool, L2Advertisement } from '../src/index.js';

const pool = (name: string, addresses: string[]): IPAddressPool => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: 'metallb-system' },
  spec: { addresses },
});
const adv = (name: string, ipAddressPools: string[]): L2Advertisement => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'L2Advertisement',
  metadata: { name, namespace: 'metallb-system' },
  spec: { ipAddressPools },
});
const objs = (ipAddressPools: IPAddressPool[], l2Advertisements: L2Advertisement[] = []) => ({
  addressPools: [],
  ipAddressPools,
  l2Advertisements,
});

describe('LastGoodConfig', () => {
  it('keeps serving the last valid version of an object that turned bad, and reports it', () => {
    const last = new LastGoodConfig();
    expect(last.update(objs([pool('a', ['10.0.0.0/24'])])).errors).toEqual([]);
    const update = last.update(objs([pool('a', ['10.0.0.300'])]));
    expect(update.errors.map((e) => e.field)).toEqual(['spec.addresses[0]']);
    expect(update.stale).toEqual(['IPAddressPool/metallb-system/a']);
    expect(update.config.pools.map((p) => p.name)).toEqual(['a']);
    expect(poolOfAddress(update.config, '10.0.0.7')).toBe('a');
  });

  it('leaves out objects never seen valid, and forgets deleted ones', () => {
    const last = new LastGoodConfig();
    expect(last.update(objs([pool('b', ['nope'])])).config.pools).toEqual([]);
    last.update(objs([pool('a', ['10.0.0.0/24'])]));
    last.update(objs([]));
    const update = last.update(objs([pool('a', ['bad'])]));
    expect(update.config.pools).toEqual([]);
    expect(update.stale).toEqual([]);
  });

  it('after a restart, serves an invalid pool from the last valid spec recorded on it', () => {
    const recorded = (addresses: string[], annotation: string): IPAddressPool => {
      const p = pool('a', addresses);
      return { ...p, metadata: { ...p.metadata, annotations: { [LAST_VALID_SPEC_ANNOTATION]: annotation } } };
    };
    const fresh = new LastGoodConfig();
    const update = fresh.update(
      objs([recorded(['10.0.0.300'], JSON.stringify({ addresses: ['10.0.0.0/24'] }))]),
    );
    expect(update.errors.map((e) => e.field)).toEqual(['spec.addresses[0]']);
    expect(update.stale).toEqual(['IPAddressPool/metallb-system/a']);
    expect(poolOfAddress(update.config, '10.0.0.7')).toBe('a');
    // A recorded spec that is itself bad (or not JSON) is not served.
    for (const bad of [JSON.stringify({ addresses: ['nope'] }), '{not json'])
      expect(new LastGoodConfig().update(objs([recorded(['10.0.0.300'], bad)])).config.pools).toEqual([]);
  });

  it('keeps an advertisement that names a missing pool for the pools that exist', () => {
    const last = new LastGoodConfig();
    const update = last.update(objs([pool('b', ['10.1.0.0/24'])], [adv('x', ['b', 'ghost'])]));
    expect(update.errors.map((e) => [e.field, e.partial])).toEqual([['spec.ipAddressPools[1]', true]]);
    expect(update.stale).toEqual([]);
    expect(l2AnnouncementFor(update.config, 'b', { name: 'n', labels: {} }).announce).toBe(true);
  });
});

describe('poolOfAddress', () => {
  it('keeps announcing the good pools of an advertisement that also names a new, broken pool', () => {
    const last = new LastGoodConfig();
    last.update(objs([pool('b', ['10.0.0.0/24'])], [adv('x', ['b'])]));
    // `c` was never valid, so it is left out; `x` now names a pool that is not in use (a partial
    // error) and must keep applying to `b`.
    const update = last.update(
      objs([pool('b', ['10.0.0.0/24']), pool('c', ['nope'])], [adv('x', ['b', 'c'])]),
    );
    expect(update.errors.map((e) => [e.kind, e.name, Boolean(e.partial)])).toEqual([
      ['IPAddressPool', 'c', false],
      ['L2Advertisement', 'x', true],
    ]);
    expect(update.config.l2.map((r) => r.pools)).toEqual([['b']]);
    expect(l2AnnouncementFor(update.config, 'b', { name: 'n1', labels: {} }).announce).toBe(true);
  });

  it('finds the pool of an address or nothing', () => {
    const { config } = new LastGoodConfig().update(
      objs([pool('a', ['10.0.0.0/24']), pool('v6', ['2001:db8::/64'])]),
    );
    expect(poolOfAddress(config, '2001:db8::5')).toBe('v6');
    expect(poolOfAddress(config, '10.0.1.1')).toBeUndefined();
    expect(poolOfAddress(config, 'garbage')).toBeUndefined();
  });
});

describe('configInputChanged', () => {
  const base = { ...pool('a', ['10.0.0.0/24']), status: { assignedIPv4: 0 } };
  it('ignores status and bookkeeping, sees spec, labels, uid and the recorded last valid spec', () => {
    expect(configInputChanged(base, { ...base, status: { assignedIPv4: 3 } })).toBe(false);
    expect(configInputChanged(base, { ...base, metadata: { ...base.metadata, resourceVersion: '9' } })).toBe(
      false,
    );
    expect(configInputChanged(base, pool('a', ['10.0.1.0/24']))).toBe(true);
    expect(configInputChanged(base, { ...base, metadata: { ...base.metadata, labels: { x: 'y' } } })).toBe(
      true,
    );
    expect(configInputChanged(base, { ...base, metadata: { ...base.metadata, uid: 'u2' } })).toBe(true);
    expect(
      configInputChanged(base, {
        ...base,
        metadata: { ...base.metadata, annotations: { [LAST_VALID_SPEC_ANNOTATION]: '{}' } },
      }),
    ).toBe(true);
    expect(configInputChanged(undefined, base)).toBe(true);
    expect(configInputChanged(base, undefined)).toBe(true);
  });
});
