import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ExistingPools } from '@metallb-ts/api';
import { silentLogger } from '@metallb-ts/k8s-runtime';
import { WEBHOOK } from '@metallb-ts/manifests';
import {
  createWebhookServer,
  generateCertificates,
  webhookDnsNames,
  type WebhookServer,
} from '../../src/webhook/index.js';

const NS = 'metallb-system';
const SERVERNAME = `${WEBHOOK.service}.${NS}.svc`;
const names = webhookDnsNames(WEBHOOK.service, NS);
const first = generateCertificates({ dnsNames: names, now: new Date() });
const second = generateCertificates({ dnsNames: names, now: new Date() });
const pools: ExistingPools = {
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

let server: WebhookServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(o: { certificate?: boolean; maxBodyBytes?: number } = {}) {
  server = createWebhookServer({
    namespace: NS,
    listPools: () => pools,
    logger: silentLogger,
    host: '127.0.0.1',
    port: 0,
    ...(o.certificate === false ? {} : { certificate: { cert: first.cert, key: first.key } }),
    ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}),
  });
  const addr = await server.listen();
  return addr.port;
}

interface Answer {
  status: number;
  body: string;
  peer: X509Certificate;
}

/** One request on a fresh connection, trusting `ca` and checking the name the API server checks. */
function call(
  port: number,
  o: { method?: string; path?: string; body?: string | Buffer; ca?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'POST',
        path: o.path ?? '/validate-ipaddresspool',
        ca: o.ca ?? first.caCert,
        servername: SERVERNAME,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerX509Certificate()!;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), peer }),
        );
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

const reviewOf = (addresses: string[]) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'uid-42',
      kind: { group: 'metallb.io', version: 'v1beta1', kind: 'IPAddressPool' },
      namespace: NS,
      name: 'b',
      operation: 'CREATE',
      object: {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'b', namespace: NS },
        spec: { addresses },
      },
    },
  });

describe('webhook HTTPS server', () => {
  it('answers AdmissionReviews over TLS verified against the generated CA for the Service name', async () => {
    const port = await start();
    const ok = await call(port, { body: reviewOf(['203.0.113.16/28']) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'uid-42', allowed: true },
    });
    const denied = await call(port, { body: reviewOf(['203.0.113.20-203.0.113.10']) });
    expect(JSON.parse(denied.body).response).toEqual({
      uid: 'uid-42',
      allowed: false,
      status: {
        code: 403,
        reason: 'Forbidden',
        message:
          'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.20-203.0.113.10": range start 203.0.113.20 is after end 203.0.113.10',
      },
    });
  });

  it('refuses a connection from a client trusting another CA', async () => {
    const port = await start();
    await expect(call(port, { body: reviewOf(['203.0.113.16/28']), ca: second.caCert })).rejects.toThrow(
      /self.signed|unable to verify|certificate/i,
    );
  });

  it('answers malformed requests with 4xx and keeps serving', async () => {
    const port = await start({ maxBodyBytes: 64 * 1024 });
    expect((await call(port, { body: '{"not": json' })).status).toBe(400);
    expect((await call(port, { body: Buffer.from([0xff, 0xfe, 0x00, 0x01]) })).status).toBe(400);
    expect((await call(port, { method: 'GET' })).status).toBe(405);
    expect((await call(port, { path: '/nope', body: reviewOf([]) })).status).toBe(404);
    const big = await call(port, { body: 'x'.repeat(200 * 1024) }).catch((e: Error) => e);
    // Either the 413 arrives or the connection is cut while the client is still sending.
    if (!(big instanceof Error)) {
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body).error).toMatch(/over the limit of 65536/);
    } else expect(big.message).toMatch(/EPIPE|ECONNRESET|socket hang up/);
    const after = await call(port, { body: reviewOf(['203.0.113.32/28']) });
    expect(JSON.parse(after.body).response.allowed).toBe(true);
  });

  it('swaps the certificate for new connections without restarting', async () => {
    const port = await start();
    const before = await call(port, { body: reviewOf(['203.0.113.16/28']) });
    expect(before.peer.fingerprint256).toBe(new X509Certificate(first.cert).fingerprint256);
    expect(server!.setCertificate({ cert: second.cert, key: second.key })).toEqual({ ok: true });
    const after = await call(port, { body: reviewOf(['203.0.113.16/28']), ca: second.caCert });
    expect(after.peer.fingerprint256).toBe(new X509Certificate(second.cert).fingerprint256);
    expect(after.status).toBe(200);
  });

  it('refuses a key that does not belong to the certificate and keeps serving the old one', async () => {
    const port = await start();
    const r = server!.setCertificate({ cert: second.cert, key: first.key });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/key/i);
    const still = await call(port, { body: reviewOf(['203.0.113.16/28']) });
    expect(still.peer.fingerprint256).toBe(new X509Certificate(first.cert).fingerprint256);
  });

  it('has no certificate until one is set: handshakes fail, then succeed', async () => {
    const port = await start({ certificate: false });
    expect(server!.hasCertificate()).toBe(false);
    await expect(call(port, { body: reviewOf(['203.0.113.16/28']) })).rejects.toThrow();
    expect(server!.setCertificate({ cert: first.cert, key: first.key })).toEqual({ ok: true });
    expect(server!.hasCertificate()).toBe(true);
    expect((await call(port, { body: reviewOf(['203.0.113.16/28']) })).status).toBe(200);
  });
});
