import { describe, expect, it } from '@jest/globals';
import { Allocator, buildPoolSet } from '@metallb-ts/ipam';
import { MAX_STATUS_COUNT } from '@metallb-ts/api';
import { poolStatusUpdates, servedPoolKey, type PoolObjectView } from '../src/pool-status-updates.js';

const allocator = () => {
  const { pools, errors } = buildPoolSet([
    { name: 'v4', addresses: ['203.0.113.0/30'], autoAssign: true, avoidBuggyIPs: false },
    {
      name: 'dual',
      addresses: ['203.0.113.16/28', '2001:db8:1::/64'],
      autoAssign: true,
      avoidBuggyIPs: false,
    },
  ]);
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return new Allocator(pools);
};
const obj = (
  kind: PoolObjectView['kind'],
  name: string,
  status?: PoolObjectView['status'],
): PoolObjectView => ({
  kind,
  metadata: { namespace: 'metallb-system', name, resourceVersion: '7' },
  ...(status ? { status } : {}),
});

const served = (kind: PoolObjectView['kind'], name: string) => servedPoolKey(kind, 'metallb-system', name);

describe('poolStatusUpdates', () => {
  it('writes counts for pools without status, per family, IPv6 /64 capped at 2^53-1', () => {
    const a = allocator();
    a.allocate('demo/a', {
      namespace: 'demo',
      labels: {},
      requestedIPs: [],
      families: [4, 6],
      familyPolicy: 'RequireDualStack',
    });
    const u = poolStatusUpdates(
      [obj('IPAddressPool', 'v4'), obj('IPAddressPool', 'dual')],
      a.stats(),
      new Set([served('IPAddressPool', 'v4'), served('IPAddressPool', 'dual')]),
    );
    expect(u.map((x) => [x.name, x.status])).toEqual([
      ['v4', { assignedIPv4: 0, availableIPv4: 4, assignedIPv6: 0, availableIPv6: 0 }],
      ['dual', { assignedIPv4: 1, availableIPv4: 15, assignedIPv6: 1, availableIPv6: MAX_STATUS_COUNT }],
    ]);
    expect(u[1]).toEqual(
      expect.objectContaining({
        kind: 'IPAddressPool',
        namespace: 'metallb-system',
        resourceVersion: '7',
        apiVersion: 'metallb.io/v1beta1',
      }),
    );
  });

  it('nothing to write when the status already says it (conditions and other fields do not matter)', () => {
    const a = allocator();
    const same = { assignedIPv4: 0, availableIPv4: 4, assignedIPv6: 0, availableIPv6: 0, conditions: [] };
    expect(
      poolStatusUpdates([obj('AddressPool', 'v4', same)], a.stats(), new Set([served('AddressPool', 'v4')])),
    ).toEqual([]);
    a.allocate('demo/a', {
      namespace: 'demo',
      labels: {},
      requestedIPs: [],
      families: [4],
      familyPolicy: 'SingleStack',
      pool: 'v4',
    });
    const u = poolStatusUpdates(
      [obj('AddressPool', 'v4', same)],
      a.stats(),
      new Set([served('AddressPool', 'v4')]),
    );
    expect(u.map((x) => [x.kind, x.status.assignedIPv4, x.status.availableIPv4])).toEqual([
      ['AddressPool', 1, 3],
    ]);
  });

  it('objects whose pool is not served (never valid) get no status', () => {
    expect(
      poolStatusUpdates(
        [obj('IPAddressPool', 'broken')],
        allocator().stats(),
        new Set([served('IPAddressPool', 'v4')]),
      ),
    ).toEqual([]);
  });

  it('of two objects with one name, only the one served gets the usage', () => {
    const u = poolStatusUpdates(
      [obj('AddressPool', 'v4'), obj('IPAddressPool', 'v4')],
      allocator().stats(),
      new Set([served('IPAddressPool', 'v4')]),
    );
    expect(u.map((x) => [x.kind, x.name])).toEqual([['IPAddressPool', 'v4']]);
  });
});
