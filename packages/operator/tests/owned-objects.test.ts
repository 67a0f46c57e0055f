import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import { describeObject, firstDifference, isOwnedBy, objectId, staleObjects } from '../src/owned-objects.js';

const owner = { namespace: 'metallb-system', name: 'metallb', uid: 'u1' };
const applied = [{ manager: 'metallb-operator', operation: 'Apply' }];
const ownedSa = (name: string, uid = 'u1', managedFields = applied): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      managedFields,
      name,
      namespace: 'metallb-system',
      ownerReferences: [{ apiVersion: 'metallb.io/v1beta1', kind: 'MetalLB', name: 'metallb', uid }],
    },
  }) as KubeObject;
const labelledRole = (name: string, ownerName = 'metallb'): KubeObject =>
  ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      managedFields: applied,
      name,
      labels: { 'metallb.io/owner-name': ownerName, 'metallb.io/owner-namespace': 'metallb-system' },
    },
  }) as KubeObject;

describe('firstDifference', () => {
  it.each([
    ['equal scalars', { a: 1 }, { a: 1 }, undefined],
    ['extra server fields do not count', { a: 1 }, { a: 1, b: 2, status: {} }, undefined],
    [
      'a changed scalar, by path',
      { spec: { x: [{ v: 'a' }] } },
      { spec: { x: [{ v: 'b' }] } },
      'spec.x[0].v',
    ],
    ['a missing field', { spec: { y: 1 } }, { spec: {} }, 'spec.y'],
    ['a shorter list', { l: [1, 2] }, { l: [1] }, 'l'],
    ['extra list items at the end do not count', { l: [1] }, { l: [1, 2] }, undefined],
    ['empty list left out by the server', { l: [], m: {} }, {}, undefined],
    [
      'zero values left out by the server',
      { env: [{ name: 'X', value: '' }], b: false },
      { env: [{ name: 'X' }] },
      undefined,
    ],
    ['number vs string', { p: 7472 }, { p: '7472' }, 'p'],
    ['object vs scalar', { a: { b: 1 } }, { a: 'x' }, 'a'],
  ])('%s', (_name, wanted, actual, want) => {
    expect(firstDifference(wanted, actual)).toBe(want);
  });
});

describe('ownership', () => {
  it('namespaced objects by ownerReference uid, cluster-scoped by labels', () => {
    expect(isOwnedBy(ownedSa('a'), owner)).toBe(true);
    expect(isOwnedBy(ownedSa('a', 'other-uid'), owner)).toBe(false);
    expect(isOwnedBy(labelledRole('r'), owner)).toBe(true);
    expect(isOwnedBy(labelledRole('r', 'second'), owner)).toBe(false);
    // Without a uid (the resource is gone), the name decides.
    expect(isOwnedBy(ownedSa('a', 'whatever'), { namespace: 'metallb-system', name: 'metallb' })).toBe(true);
  });

  it('stale: owned, applied by us and not rendered; unowned or made by others never', () => {
    const byController = ownedSa('memberlist', 'u1', [
      { manager: 'metallb-controller', operation: 'Update' },
    ]);
    const existing = [
      ownedSa('keep'),
      ownedSa('gone'),
      labelledRole('old'),
      ownedSa('foreign', 'x'),
      byController,
    ];
    const rendered = [ownedSa('keep')];
    expect(staleObjects(rendered, existing, owner, 'metallb-operator').map(describeObject)).toEqual([
      'ServiceAccount metallb-system/gone',
      'ClusterRole old',
    ]);
  });

  it('objectId ignores the version, keeps the group', () => {
    expect(
      objectId({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'n', name: 'd' } }),
    ).toBe('apps/Deployment/n/d');
    expect(objectId(labelledRole('r'))).toBe('rbac.authorization.k8s.io/ClusterRole//r');
  });
});
