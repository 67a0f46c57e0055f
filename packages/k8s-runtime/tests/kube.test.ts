import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect, type Kube } from '../src/kube.js';
import { KubeError } from '../src/kube-error.js';
import { silentLogger } from '../src/logger.js';

// A local HTTP server that answers what each test tells it to, and a client pointed at it.
let server: http.Server;
let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end();
let dir: string;
let kube: Kube;
const open = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'kube-test-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {insecure-skip-tls-verify: true, server: "http://127.0.0.1:' +
        port +
        '"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n'),
  );
  kube = connect({ kubeconfig, logger: silentLogger });
});

afterAll(async () => {
  kube.close();
  for (const res of open) res.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespace: 'ns' };

describe('Kube per-call timeout', () => {
  it('rejects a call that gets no answer within its timeoutMs, long before the client default', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const err = await kube.get({ ...lease, name: 'l' }, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).reason).toBe('Timeout');
    // The client default is 30 s of socket inactivity; the call must not wait for that.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('bounds the whole exchange even while bytes keep trickling in', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{');
      const drip = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(drip));
    };
    const err = await kube
      .patch({ ...lease, name: 'l' }, { spec: {} }, { type: 'merge', timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect((err as KubeError).reason).toBe('Timeout');
  });

  it('answers in time are unaffected by the timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } }),
      );
    };
    const got = await kube.get({ ...lease, name: 'l' }, { timeoutMs: 2000 });
    expect(got.metadata?.name).toBe('l');
  });
});

describe('Kube watch idle timeout', () => {
  const lines = (res: http.ServerResponse, ...events: object[]): void => {
    for (const e of events) res.write(JSON.stringify(e) + '\n');
  };
  const cm = (name: string, rv: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'ns', resourceVersion: rv },
  });
  const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespace: 'ns' };

  it('asks for bookmarks and abandons a watch that goes silent', async () => {
    let url = '';
    handler = (req, res) => {
      url = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      lines(res, { type: 'ADDED', object: cm('a', '5') });
      // ...then nothing, like a half-open connection: no end, no bytes.
    };
    const seen: string[] = [];
    const err = await kube
      .watch(cmRef, { resourceVersion: '1', timeoutSeconds: 300, idleTimeoutMs: 200 }, (t, o) =>
        seen.push(`${t} ${o.metadata?.name}`),
      )
      .catch((e: unknown) => e);
    expect(seen).toEqual(['ADDED a']);
    expect((err as KubeError).reason).toBe('Timeout');
    expect(new URL(url, 'http://x').searchParams.get('allowWatchBookmarks')).toBe('true');
  });

  it('keeps a quiet watch that receives bookmarks, until the server ends it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let n = 0;
      const tick = setInterval(() => {
        n++;
        lines(res, {
          type: 'BOOKMARK',
          object: { ...cm('', String(10 + n)), metadata: { resourceVersion: String(10 + n) } },
        });
        if (n === 8) {
          clearInterval(tick);
          res.end();
        }
      }, 60);
      res.on('close', () => clearInterval(tick));
    };
    const types: string[] = [];
    // 8 bookmarks 60 ms apart: the stream lasts ~480 ms, far past the 200 ms idle limit.
    await kube.watch(cmRef, { resourceVersion: '1', timeoutSeconds: 300, idleTimeoutMs: 200 }, (t) =>
      types.push(t),
    );
    expect(types).toEqual(Array(8).fill('BOOKMARK'));
  });

  it('makes a watch cache relist when its watch goes silent', async () => {
    let lists = 0;
    let version = 0;
    handler = (req, res) => {
      const q = new URL(req.url ?? '', 'http://x').searchParams;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (q.get('watch') !== '1') {
        lists++;
        version++;
        // Each list shows a different object, as if changes were missed while the watch hung.
        res.end(
          JSON.stringify({
            metadata: { resourceVersion: String(100 + version) },
            items: [cm(`v${version}`, String(100 + version))],
          }),
        );
        return;
      }
      // Watches accept and then stay silent.
    };
    const cache = kube.watchCache({ ...cmRef, watchIdleTimeoutMs: 150, backoff: { initialMs: 1, maxMs: 5 } });
    try {
      await cache.waitForSync();
      expect(cache.keys()).toEqual(['ns/v1']);
      const deadline = Date.now() + 5000;
      while (lists < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(lists).toBeGreaterThanOrEqual(2);
      while (cache.get('ns/v1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(cache.get('ns/v1')).toBeUndefined();
    } finally {
      await cache.stop();
    }
  });
});

describe('Kube requests', () => {
  it('server-side apply is a PATCH of the object with the apply content type, field manager and force', async () => {
    const seen: Array<{ method?: string; url?: string; type?: string; body: string }> = [];
    handler = (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        // A watch cache of an earlier test may still reconnect; only this test's requests count.
        if (!req.url?.includes('watch=1'))
          seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (req.url === '/apis/coordination.k8s.io/v1') {
          const resources = [
            { name: 'leases', kind: 'Lease', namespaced: true },
            { name: 'leases/status', kind: 'Lease', namespaced: true },
          ];
          res.end(JSON.stringify({ resources }));
        } else res.end(body);
      });
    };
    const obj = { ...lease, metadata: { name: 'l', namespace: 'ns' }, spec: { holderIdentity: 'a' } };
    const { plural: _plural, namespace: _ns, ...applied } = obj;
    await kube.apply(applied, { fieldManager: 'metallb-operator', force: true });
    // No plural on an object: the client looks the kind up first (discovery), then patches.
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /apis/coordination.k8s.io/v1',
      'PATCH /apis/coordination.k8s.io/v1/namespaces/ns/leases/l?fieldManager=metallb-operator&force=true',
    ]);
    expect(seen[1]).toEqual({
      method: 'PATCH',
      url: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l?fieldManager=metallb-operator&force=true',
      type: 'application/apply-patch+yaml',
      body: JSON.stringify(applied),
    });
  });

  it('refuses an apply patch without a field manager before sending anything', async () => {
    let requests = 0;
    handler = (_req, res) => {
      requests++;
      res.end('{}');
    };
    const err = await kube
      .patch({ ...lease, name: 'l' }, { spec: {} }, { type: 'apply' })
      .catch((e: unknown) => e);
    expect((err as KubeError).status).toBe(400);
    expect(requests).toBe(0);
  });

  it('lists follow continue tokens and put apiVersion and kind back on the items', async () => {
    const urls: string[] = [];
    handler = (req, res) => {
      urls.push(req.url ?? '');
      const second = (req.url ?? '').includes('continue=next');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          metadata: second ? { resourceVersion: '42' } : { resourceVersion: '41', continue: 'next' },
          items: [{ metadata: { name: second ? 'b' : 'a' } }],
        }),
      );
    };
    const got = await kube.listWithVersion({ ...lease });
    expect(got.resourceVersion).toBe('42');
    expect(got.items.map((i) => [i.kind, i.apiVersion, i.metadata?.name])).toEqual([
      ['Lease', 'coordination.k8s.io/v1', 'a'],
      ['Lease', 'coordination.k8s.io/v1', 'b'],
    ]);
    expect(urls).toEqual([
      '/apis/coordination.k8s.io/v1/namespaces/ns/leases?limit=500',
      '/apis/coordination.k8s.io/v1/namespaces/ns/leases?limit=500&continue=next',
    ]);
  });
});
