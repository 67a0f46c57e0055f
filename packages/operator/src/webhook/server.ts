// The webhook's HTTPS server: reads a bounded body, hands it to reviewAdmission, writes the reply.
// The certificate is swapped in place (setSecureContext) when the Secret changes; until the first
// one arrives, TLS handshakes fail and `hasCertificate()` is false (the readiness probe uses it).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { serializeError, type Logger } from '@metallb-ts/k8s-runtime';
import { WEBHOOK } from '@metallb-ts/manifests';
import { reviewAdmission, type ReviewContext } from './admission-review.js';

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface WebhookServerOptions extends ReviewContext {
  readonly logger: Logger;
  /** Default 0.0.0.0. */
  readonly host?: string;
  /** Default WEBHOOK.port (9443); 0 picks a free port. */
  readonly port?: number;
  /** Bodies above this are refused with 413 without reading further. Default 4 MiB (two 1.5 MiB objects fit). */
  readonly maxBodyBytes?: number;
  /** Serve this from the start (otherwise call setCertificate). */
  readonly certificate?: KeyPair;
  /** A request taking longer than this (slow client) is cut off. Default 10 s. */
  readonly requestTimeoutMs?: number;
}

export interface WebhookServer {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /**
   * Serves `pair` from the next handshake on. A pair TLS cannot use (key not matching, unreadable
   * PEM) is refused with the reason and the current certificate stays.
   */
  setCertificate(pair: KeyPair): { ok: true } | { ok: false; error: string };
  hasCertificate(): boolean;
  /** Stops accepting connections and ends open ones. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

export function createWebhookServer(o: WebhookServerOptions): WebhookServer {
  const log = o.logger;
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let current: KeyPair | undefined;
  const ctx: ReviewContext = { namespace: o.namespace, listPools: o.listPools };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: `${req.method} is not allowed; POST an AdmissionReview` });
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBody) {
      res.setHeader('connection', 'close');
      send(res, 413, { error: `body of ${declared} bytes is over the limit of ${maxBody}` });
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBody) {
        refused = true;
        res.setHeader('connection', 'close');
        send(res, 413, { error: `body is over the limit of ${maxBody} bytes` });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (e) => log.debug('webhook request aborted', { path, error: serializeError(e) }));
    req.on('end', async () => {
      if (refused) return;
      let reply;
      try {
        reply = await reviewAdmission(path, Buffer.concat(chunks).toString('utf8'), ctx);
      } catch (e) {
        // reviewAdmission handles every malformed input; this is a bug, answered without crashing.
        log.error('webhook review failed', { path, error: serializeError(e) });
        return send(res, 500, { error: 'internal error while reviewing the object' });
      }
      if (reply.summary) {
        const fields = { path, ...reply.summary };
        if (reply.summary.allowed) log.debug('admission allowed', fields);
        else log.info('admission denied', fields);
      } else if (reply.status !== 200) {
        log.info('admission request refused', { path, status: reply.status, reply: reply.body });
      }
      send(res, reply.status, reply.body);
    });
  };

  const server: Server = createServer(
    o.certificate ? { cert: o.certificate.cert, key: o.certificate.key } : {},
    handle,
  );
  if (o.certificate) current = o.certificate;
  server.requestTimeout = o.requestTimeoutMs ?? 10_000;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);
  server.on('tlsClientError', (e) => log.debug('webhook TLS handshake failed', { error: serializeError(e) }));
  server.on('clientError', (e, socket) => {
    log.debug('webhook client error', { error: serializeError(e) });
    socket.destroy();
  });

  return {
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port ?? WEBHOOK.port, o.host ?? '0.0.0.0', () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    setCertificate(pair) {
      if (current && current.cert === pair.cert && current.key === pair.key) return { ok: true };
      try {
        // Checks the pair first: setSecureContext would otherwise leave a broken context behind.
        createSecureContext({ cert: pair.cert, key: pair.key });
        server.setSecureContext({ cert: pair.cert, key: pair.key });
      } catch (e) {
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      log.info(current ? 'webhook certificate swapped' : 'webhook certificate loaded', {});
      current = pair;
      return { ok: true };
    },
    hasCertificate: () => current !== undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
