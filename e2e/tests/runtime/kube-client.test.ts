import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { request as httpsRequest } from 'node:https';
import {
  connect,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isNotFound,
  KubeError,
  type Kube,
  type LooseKubeObject,
} from '@metallb-ts/k8s-runtime';
import { labControlPlane } from '../../src/control-plane.js';
import { serviceAccountKubeconfig } from '../../src/credentials.js';
import { closeTestNamespace, configMap, configMapRef, openTestNamespace } from './helpers.js';

let k: Kube;
let ns: string;

beforeAll(async () => ({ k, ns } = await openTestNamespace('rt-client')), 30_000);
afterAll(() => closeTestNamespace(k, ns));

describe('Kube against a real API server', () => {
  it('creates, gets, lists, replaces and deletes; errors are typed', async () => {
    const created = await k.create<LooseKubeObject>(configMap(ns, 'a', { x: '1' }));
    expect(created.metadata?.resourceVersion).toBeTruthy();
    const again = await k.create(configMap(ns, 'a')).catch((e: unknown) => e);
    expect(isAlreadyExists(again)).toBe(true);
    expect(again).toBeInstanceOf(KubeError);
    expect((again as KubeError).status).toBe(409);

    const got = await k.get<LooseKubeObject>(configMapRef(ns, 'a'));
    expect(got['data']).toEqual({ x: '1' });
    expect(got.kind).toBe('ConfigMap');

    await k.create(configMap(ns, 'b'));
    const listed = await k.list(configMapRef(ns));
    expect(
      listed
        .map((o) => o.metadata?.name)
        .filter((n) => n !== 'kube-root-ca.crt')
        .sort(),
    ).toEqual(['a', 'b']);
    expect(listed.every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1')).toBe(true);

    const replaced = await k.replace({ ...got, data: { x: '2' } });
    expect(replaced.metadata?.resourceVersion).not.toBe(got.metadata?.resourceVersion);
    const stale = await k.replace({ ...got, data: { x: '3' } }).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
    expect((stale as KubeError).reason).toBe('Conflict');

    await k.delete(configMapRef(ns, 'a'));
    const missing = await k.get(configMapRef(ns, 'a')).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect((missing as KubeError).reason).toBe('NotFound');
  });

  it('patches with merge, strategic, server-side apply and the status subresource', async () => {
    await k.create(configMap(ns, 'p', { a: '1' }));
    const merged = await k.patch<LooseKubeObject>(
      configMapRef(ns, 'p'),
      { data: { b: '2' } },
      { type: 'merge' },
    );
    expect(merged['data']).toEqual({ a: '1', b: '2' });
    const applied = await k.patch<LooseKubeObject>(
      configMapRef(ns, 'p'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p', namespace: ns }, data: { c: '3' } },
      { type: 'apply', fieldManager: 'rt-test', force: true },
    );
    expect((applied['data'] as Record<string, string>)['c']).toBe('3');
    const svc = await k.create<LooseKubeObject>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: ns, name: 'web' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] },
    });
    expect(svc.kind).toBe('Service');
    const withStatus = await k.patch<LooseKubeObject>(
      { apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'web' },
      { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
      { type: 'merge', subresource: 'status' },
    );
    expect(withStatus['status']).toMatchObject({ loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } });
    const strategic = await k.patch<LooseKubeObject>(
      { apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'web' },
      { metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': 'default' } } },
      { type: 'strategic' },
    );
    expect(strategic.metadata?.annotations?.['metallb.io/ip-allocated-from-pool']).toBe('default');
  });

  it('reports 403 Forbidden as a typed error for a ServiceAccount without the right', async () => {
    const cp = labControlPlane();
    const speakerConfig = await serviceAccountKubeconfig(cp, 'metallb-system', 'speaker', cp.server.local);
    const asSpeaker = connect({ kubeconfig: speakerConfig });
    const denied = await asSpeaker
      .delete({ apiVersion: 'v1', kind: 'Namespace', name: ns })
      .catch((e: unknown) => e);
    asSpeaker.close();
    expect(isForbidden(denied)).toBe(true);
    expect((denied as KubeError).status).toBe(403);
    expect((denied as KubeError).body).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
  });

  it('server-side applies a whole object and reports field conflicts as 409', async () => {
    const desired = configMap(ns, 'owned', { mode: 'a' });
    const first = await k.apply<LooseKubeObject>(desired, { fieldManager: 'rt-operator' });
    expect(first['data']).toEqual({ mode: 'a' });
    // Another manager changing an owned field without force conflicts...
    const conflict = await k
      .apply(configMap(ns, 'owned', { mode: 'b' }), { fieldManager: 'someone-else' })
      .catch((e: unknown) => e);
    expect(isConflict(conflict)).toBe(true);
    // ...and wins with force.
    const forced = await k.apply<LooseKubeObject>(configMap(ns, 'owned', { mode: 'b' }), {
      fieldManager: 'someone-else',
      force: true,
    });
    expect(forced['data']).toEqual({ mode: 'b' });
  });

  it('lists across pages (more than one 500-item page)', async () => {
    const n = 520;
    for (let i = 0; i < n; i += 40) {
      await Promise.all(
        Array.from({ length: Math.min(40, n - i) }, (_, j) =>
          k.create(configMap(ns, `page-${String(i + j).padStart(4, '0')}`)),
        ),
      );
    }
    const { items, resourceVersion } = await k.listWithVersion(configMapRef(ns), { labelSelector: '' });
    const names = items.map((o) => o.metadata?.name ?? '').filter((x) => x.startsWith('page-'));
    expect(names).toHaveLength(n);
    expect(new Set(names).size).toBe(n);
    expect(Number(resourceVersion)).toBeGreaterThan(0);
  }, 60_000);

  it('answers unknown kinds with NotFound from discovery', async () => {
    const e = await k
      .get({ apiVersion: 'v1', kind: 'NoSuchKind', namespace: ns, name: 'x' })
      .catch((x: unknown) => x);
    expect(isNotFound(e)).toBe(true);
  });

  it('refuses anonymous requests except the health endpoints', async () => {
    const anonymous = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          `${k.server}${path}`,
          { rejectUnauthorized: false, timeout: 5000 },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
        req.on('error', reject);
        req.end();
      });
    expect(await anonymous('/readyz')).toBe(200);
    expect(await anonymous('/version')).toBe(401);
    expect(await anonymous(`/api/v1/namespaces/${ns}/configmaps`)).toBe(401);
  });
});
