import { describe, expect, it } from '@jest/globals';
import type { ExistingPools } from '@metallb-ts/api';
import { WEBHOOK_PATHS } from '@metallb-ts/manifests';
import { kindForPath, reviewAdmission, type ReviewContext } from '../../src/webhook/index.js';

const NS = 'metallb-system';
const existing: ExistingPools = {
  addressPools: [],
  ipAddressPools: [
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'a', namespace: NS },
      spec: { addresses: ['203.0.113.0/28'] },
    },
  ],
};
const ctx: ReviewContext = { namespace: NS, listPools: () => existing };

function review(kind: string, object: unknown, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'req-1',
      kind: { group: 'metallb.io', version: 'v1beta1', kind },
      namespace: NS,
      name: (object as { metadata?: { name?: string } } | null)?.metadata?.name,
      operation: 'CREATE',
      object,
      ...extra,
    },
  });
}
const pool = (name: string, addresses: string[]) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: NS },
  spec: { addresses },
});

describe('reviewAdmission', () => {
  it('maps the four paths to their kinds', () => {
    expect(Object.values(WEBHOOK_PATHS).map((p) => kindForPath(p))).toEqual([
      'MetalLB',
      'IPAddressPool',
      'AddressPool',
      'L2Advertisement',
    ]);
    expect(kindForPath('/validate-ipaddresspool?timeout=10s')).toBe('IPAddressPool');
    expect(kindForPath('/other')).toBeUndefined();
  });

  it('allows a valid pool, answering with the request uid', async () => {
    const r = await reviewAdmission(
      '/validate-ipaddresspool',
      review('IPAddressPool', pool('b', ['203.0.113.16/28'])),
      ctx,
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'req-1', allowed: true },
    });
    expect(r.summary).toEqual({
      kind: 'IPAddressPool',
      key: `${NS}/b`,
      operation: 'CREATE',
      allowed: true,
    });
  });

  it('denies an overlapping pool with a one-line message naming both pools', async () => {
    const r = await reviewAdmission(
      '/validate-ipaddresspool',
      review('IPAddressPool', pool('b', ['203.0.113.8/29'])),
      ctx,
    );
    expect(r.body).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: 'req-1',
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message:
            'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.8/29": overlaps pool "a" (addresses 203.0.113.8/29 are in both pools)',
        },
      },
    });
  });

  it('fills in the namespace and kind from the request when the object lacks them', async () => {
    const bare = { metadata: { name: 'b' }, spec: { addresses: ['203.0.113.20-203.0.113.10'] } };
    const r = await reviewAdmission('/validate-ipaddresspool', review('IPAddressPool', bare), ctx);
    expect((r.body as { response: { status: { message: string } } }).response.status.message).toBe(
      'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.20-203.0.113.10": range start 203.0.113.20 is after end 203.0.113.10',
    );
  });

  it('denies a MetalLB with BGP settings, and passes warnings through for L2Advertisements', async () => {
    const m = await reviewAdmission(
      '/validate-metallb',
      review('MetalLB', {
        kind: 'MetalLB',
        metadata: { name: 'metallb', namespace: NS },
        spec: { bgpBackend: 'frr' },
      }),
      ctx,
    );
    expect(
      (m.body as { response: { allowed: boolean; status: { message: string } } }).response.status.message,
    ).toMatch(/layer 2 only/);
    const l = await reviewAdmission(
      '/validate-l2advertisement',
      review('L2Advertisement', {
        kind: 'L2Advertisement',
        metadata: { name: 'x', namespace: NS },
        spec: { ipAddressPools: ['ghost'] },
      }),
      ctx,
    );
    expect((l.body as { response: unknown }).response).toEqual({
      uid: 'req-1',
      allowed: true,
      warnings: ['L2Advertisement metallb-system/x: spec.ipAddressPools[0] "ghost": no such IPAddressPool'],
    });
  });

  it('allows an UPDATE of an object being deleted (its finalizers going), not one of a live object', async () => {
    const bgp = (deletionTimestamp?: string) => ({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'MetalLB',
      metadata: {
        name: 'metallb',
        namespace: NS,
        finalizers: [],
        ...(deletionTimestamp ? { deletionTimestamp } : {}),
      },
      spec: { bgpType: 'frr' },
    });
    const allowed = async (object: unknown, operation: string) => {
      const r = await reviewAdmission('/validate-metallb', review('MetalLB', object, { operation }), ctx);
      return (r.body as { response: { allowed: boolean } }).response.allowed;
    };
    expect({
      updateDeleting: await allowed(bgp('2026-01-01T00:00:00Z'), 'UPDATE'),
      updateLive: await allowed(bgp(), 'UPDATE'),
      createDeleting: await allowed(bgp('2026-01-01T00:00:00Z'), 'CREATE'),
    }).toEqual({ updateDeleting: true, updateLive: false, createDeleting: false });
  });

  it('allows every DELETE without looking at the object', async () => {
    const r = await reviewAdmission(
      '/validate-ipaddresspool',
      review('IPAddressPool', null, { operation: 'DELETE', oldObject: pool('a', ['x']) }),
      ctx,
    );
    expect((r.body as { response: unknown }).response).toEqual({ uid: 'req-1', allowed: true });
  });

  it('refuses pools with "try again" while the pool caches are not synced', async () => {
    const r = await reviewAdmission(
      '/validate-addresspool',
      review('AddressPool', { ...pool('b', ['203.0.113.64/28']), kind: 'AddressPool' }),
      {
        namespace: NS,
        listPools: () => {
          throw new Error('the ipAddressPools cache has not synced');
        },
      },
    );
    expect((r.body as { response: { allowed: boolean; status: { message: string } } }).response).toEqual({
      uid: 'req-1',
      allowed: false,
      status: {
        code: 403,
        reason: 'Forbidden',
        message:
          'AddressPool metallb-system/b: cannot compare with the existing pools yet (the ipAddressPools cache has not synced); try again shortly',
      },
    });
  });

  it('takes pools from an async source, and refuses with "try again" when it rejects', async () => {
    const live = await reviewAdmission(
      '/validate-ipaddresspool',
      review('IPAddressPool', pool('b', ['203.0.113.8/29'])),
      {
        namespace: NS,
        listPools: async () => existing,
      },
    );
    expect(JSON.stringify(live.body)).toContain('overlaps pool \\"a\\"');
    const down = await reviewAdmission(
      '/validate-ipaddresspool',
      review('IPAddressPool', pool('b', ['203.0.113.64/28'])),
      {
        namespace: NS,
        listPools: () => Promise.reject(new Error('connection refused')),
      },
    );
    expect(JSON.stringify(down.body)).toContain(
      'cannot compare with the existing pools yet (connection refused); try again shortly',
    );
  });

  it('refuses a kind routed to the wrong path', async () => {
    const r = await reviewAdmission(
      '/validate-metallb',
      review('IPAddressPool', pool('b', ['203.0.113.64/28'])),
      ctx,
    );
    expect((r.body as { response: { allowed: boolean } }).response.allowed).toBe(false);
    expect(JSON.stringify(r.body)).toContain('validates MetalLB objects, not IPAddressPool');
  });

  it.each([
    ['not JSON', '{"apiVersion": ', 400, /the body is not JSON/],
    ['JSON null', 'null', 400, /expected an AdmissionReview/],
    [
      'another apiVersion',
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1beta1',
        kind: 'AdmissionReview',
        request: { uid: 'x' },
      }),
      400,
      /admission.k8s.io\/v1/,
    ],
    [
      'no request',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      400,
      /no request with a uid/,
    ],
    [
      'a uid that is a number',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 7 } }),
      400,
      /no request with a uid/,
    ],
    ['a CREATE without object', review('IPAddressPool', 'text'), 400, /carries no object/],
    ['an empty body', '', 400, /not JSON/],
  ])('answers %s with 400 and a reason', async (_what, body, status, reason) => {
    const r = await reviewAdmission('/validate-ipaddresspool', body, ctx);
    expect(r.status).toBe(status);
    expect(JSON.stringify(r.body)).toMatch(reason);
  });

  it('answers an unknown path with 404', async () => {
    const r = await reviewAdmission('/mutate', review('IPAddressPool', pool('b', ['203.0.113.64/28'])), ctx);
    expect(r.status).toBe(404);
  });
});
