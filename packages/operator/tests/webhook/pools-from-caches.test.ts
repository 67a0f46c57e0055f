import { describe, expect, it } from '@jest/globals';
import type { Kube, KubeObject, ObjectRef } from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { poolsFromApi, poolsFromCaches } from '../../src/webhook/index.js';

const pool = (kind: string, name: string, namespace = 'metallb-system') => ({
  apiVersion: 'metallb.io/v1beta1',
  kind,
  metadata: { name, namespace },
  spec: { addresses: ['203.0.113.0/28'] },
});

describe('poolsFromCaches', () => {
  it('lists both caches once synced and throws naming the cache that is not', () => {
    let synced = false;
    const view = (items: unknown[]) => ({ hasSynced: () => synced, list: () => items });
    const list = poolsFromCaches({
      addressPools: view([pool('AddressPool', 'a')]),
      ipAddressPools: view([pool('IPAddressPool', 'b')]),
    });
    expect(() => list()).toThrow('the addressPools cache has not synced');
    synced = true;
    expect(list()).toEqual({
      addressPools: [pool('AddressPool', 'a')],
      ipAddressPools: [pool('IPAddressPool', 'b')],
    });
  });
});

describe('poolsFromApi', () => {
  it('reads both kinds of the namespace live', async () => {
    const kube = new FakeKube();
    kube.put(pool('AddressPool', 'a'));
    kube.put(pool('IPAddressPool', 'b'));
    kube.put(pool('IPAddressPool', 'elsewhere', 'default'));
    const reader: Pick<Kube, 'list'> = {
      list: <T extends KubeObject>(ref: ObjectRef) => kube.listWithVersion<T>(ref).then((r) => r.items),
    };
    const list = poolsFromApi(reader, 'metallb-system');
    const got = await list();
    expect(got.addressPools.map((p) => (p as { metadata: { name: string } }).metadata.name)).toEqual(['a']);
    expect(got.ipAddressPools.map((p) => (p as { metadata: { name: string } }).metadata.name)).toEqual(['b']);
  });
});
