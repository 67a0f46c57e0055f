import { describe, expect, it } from '@jest/globals';
import type { Service } from '@metallb-ts/k8s-runtime';
import { DeprecationNotices } from '../src/deprecation-notices.js';
import { legacyAnnotationsInUse } from '../src/service-intent.js';

const svc = (annotations: Record<string, string>, o: { uid?: string; type?: string } = {}): Service => ({
  metadata: { namespace: 'demo', name: 's', uid: o.uid ?? 'u1', annotations },
  spec: { type: o.type ?? 'LoadBalancer', ipFamilies: ['IPv4'] },
});

describe('legacyAnnotationsInUse', () => {
  it.each<{ name: string; a: Record<string, string>; want: string[] }>([
    { name: 'none', a: {}, want: [] },
    { name: 'new prefix only', a: { 'metallb.io/address-pool': 'p' }, want: [] },
    {
      name: 'legacy pool and sharing key',
      a: { 'metallb.universe.tf/address-pool': 'p', 'metallb.universe.tf/allow-shared-ip': 'k' },
      want: ['metallb.universe.tf/address-pool', 'metallb.universe.tf/allow-shared-ip'],
    },
    {
      name: 'legacy shadowed by the new twin is not in effect',
      a: { 'metallb.universe.tf/address-pool': 'p', 'metallb.io/address-pool': 'q' },
      want: [],
    },
    {
      name: 'legacy ip-allocated-from-pool is written by a controller, not the user',
      a: { 'metallb.universe.tf/ip-allocated-from-pool': 'p' },
      want: [],
    },
    {
      name: 'legacy loadBalancerIPs',
      a: { 'metallb.universe.tf/loadBalancerIPs': '203.0.113.1' },
      want: ['metallb.universe.tf/loadBalancerIPs'],
    },
  ])('$name', ({ a, want }) => {
    expect(legacyAnnotationsInUse(svc(a))).toEqual(want);
  });
});

describe('DeprecationNotices: once per change, not per resync', () => {
  it('walks through edits of one service', () => {
    const n = new DeprecationNotices();
    const legacyPool = { 'metallb.universe.tf/address-pool': 'p' };
    const first = n.check('demo/s', svc(legacyPool));
    expect(first).toEqual(expect.objectContaining({ type: 'Warning', reason: 'deprecatedAnnotation' }));
    expect(first?.message).toContain('metallb.universe.tf/address-pool -> metallb.io/address-pool');
    // Resyncs of the same object: silent.
    expect(n.check('demo/s', svc(legacyPool))).toBeUndefined();
    expect(n.check('demo/s', svc(legacyPool))).toBeUndefined();
    // Another legacy annotation added: told again, naming both.
    const more = n.check('demo/s', svc({ ...legacyPool, 'metallb.universe.tf/allow-shared-ip': 'k' }));
    expect(more?.message).toMatch(/address-pool.*allow-shared-ip/);
    // Migrated: silent, and a later regression is told again.
    expect(n.check('demo/s', svc({ 'metallb.io/address-pool': 'p' }))).toBeUndefined();
    expect(n.check('demo/s', svc(legacyPool))?.reason).toBe('deprecatedAnnotation');
    // Recreated under the same name (new uid): told again.
    expect(n.check('demo/s', svc(legacyPool, { uid: 'u2' }))?.reason).toBe('deprecatedAnnotation');
  });

  it('services that are not ours are not told; deletion forgets', () => {
    const n = new DeprecationNotices();
    const legacy = { 'metallb.universe.tf/address-pool': 'p' };
    expect(n.check('demo/s', svc(legacy, { type: 'ClusterIP' }))).toBeUndefined();
    expect(n.check('demo/s', svc(legacy))).toBeDefined();
    expect(n.check('demo/s', undefined)).toBeUndefined();
    expect(n.check('demo/s', svc(legacy))).toBeDefined();
  });

  it('uses the intent the caller already computed instead of computing it again', () => {
    const n = new DeprecationNotices();
    const legacy = svc({ 'metallb.universe.tf/address-pool': 'p' });
    const ignored = { kind: 'ignore', reason: 'another class', notOurs: 'class' } as const;
    expect(n.check('demo/s', legacy, {}, ignored)).toBeUndefined();
    expect(n.check('demo/s', legacy)?.reason).toBe('deprecatedAnnotation');
  });
});
