import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createServer } from '../src/server.js';
import { createRegistry, createK8sClientMetrics } from '../src/metrics.js';
import { createLogger } from '../src/logger.js';

const logger = createLogger({ component: 'test', level: 'none' });

// The tests talk to a real listener on loopback.
async function get(url: string) {
  const res = await fetch(url);
  return {
    statusCode: res.status,
    headers: { 'content-type': res.headers.get('content-type') ?? '' },
    body: await res.text(),
  };
}

describe('createServer', () => {
  let ready: boolean | { ok: boolean; reason?: string } = false;
  const registry = createRegistry();
  const metrics = createK8sClientMetrics(registry);
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    logger,
    checks: {
      healthz: () => true,
      readyz: { caches: () => ready, never: async () => true },
    },
  });
  let base = '';
  beforeAll(async () => {
    const { port } = await server.start();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server.close());

  it('serves /metrics in the Prometheus text format with the MetalLB client metrics', async () => {
    metrics.recordUpdate(true);
    metrics.recordUpdate(false);
    metrics.setConfigLoaded(true);
    const res = await get(`${base}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('metallb_k8s_client_updates_total 2');
    expect(res.body).toContain('metallb_k8s_client_update_errors_total 1');
    expect(res.body).toContain('metallb_k8s_client_config_loaded_bool 1');
    expect(res.body).toContain('metallb_k8s_client_config_stale_bool 0');
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });

  it('answers /healthz ok', async () => {
    const res = await get(`${base}/healthz`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
  });

  it('answers /readyz 503 with the failing check and its reason, then 200', async () => {
    let res = await get(`${base}/readyz`);
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe('caches: check failed');
    ready = { ok: false, reason: 'services cache not synced' };
    res = await get(`${base}/readyz`);
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe('caches: services cache not synced');
    ready = true;
    res = await get(`${base}/readyz`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
  });

  it('lists every check with ?verbose, and answers HEAD, 404 and 405', async () => {
    ready = { ok: false, reason: 'services cache not synced' };
    let res = await get(`${base}/readyz?verbose`);
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe('[-]caches failed: services cache not synced\n[+]never ok\nreadyz check failed\n');
    ready = true;
    res = await get(`${base}/readyz?verbose=1`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('[+]caches ok\n[+]never ok\nreadyz check passed\n');
    res = await get(`${base}/healthz?verbose`);
    expect(res.body).toBe('[+]healthz ok\nhealthz check passed\n');
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get(`${base}/nothing`)).statusCode).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('a throwing check fails with its message', async () => {
    const s = createServer({
      host: '127.0.0.1',
      port: 0,
      registry: createRegistry({ defaultMetrics: false }),
      logger,
      checks: {
        healthz: () => {
          throw new Error('deadlock detector tripped');
        },
        readyz: () => true,
      },
    });
    const { port } = await s.start();
    const res = await get(`http://127.0.0.1:${port}/healthz`);
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('deadlock detector tripped');
    await s.close();
  });

  it('listens on a real port', async () => {
    const s = createServer({
      host: '127.0.0.1',
      port: 0,
      registry: createRegistry({ defaultMetrics: false }),
      logger,
      checks: { healthz: () => true, readyz: () => true },
    });
    const { port } = await s.start();
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    await s.close();
  });
});
