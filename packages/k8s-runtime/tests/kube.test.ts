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
