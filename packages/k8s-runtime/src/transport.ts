// How bytes reach the API server: credentials from client-node's KubeConfig (re-read now and then,
// since exec-plugin and projected ServiceAccount tokens rotate), one keep-alive agent, and one
// JSON request with an optional total deadline. Knows nothing about kinds or paths.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError, kubeErrorFromStatus } from './kube-error.js';
import type { Logger } from './logger.js';

// Tokens from exec plugins and projected ServiceAccount files rotate; re-read the auth headers now and then.
const HEADER_REFRESH_MS = 60_000;

interface Connection {
  agent: http.Agent;
  secure: boolean;
  baseHeaders: Record<string, string>;
  headersAt: number;
}

export interface TransportOptions {
  logger: Logger;
  /** Socket inactivity timeout of non-watch requests. */
  requestTimeoutMs: number;
  userAgent: string;
}

/** A prepared GET whose response the caller reads as a stream (the watch). */
export interface PreparedStream {
  readonly url: URL;
  /** Creates the request (the caller calls `end()` to send it); `onResponse` gets the raw response. */
  open(onResponse: (res: http.IncomingMessage) => void): http.ClientRequest;
}

export class Transport {
  /** The API server URL, without a trailing slash. */
  readonly server: string;
  private connection: Promise<Connection> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: TransportOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  private async connect(): Promise<Connection> {
    if (!this.connection) {
      this.connection = (async () => {
        const o: https.RequestOptions = {};
        await this.kc.applyToHTTPSOptions(o);
        const secure = this.server.startsWith('https:');
        const cluster = this.kc.getCurrentCluster();
        const agent = secure
          ? new https.Agent({
              keepAlive: true,
              ca: o.ca,
              cert: o.cert,
              key: o.key,
              pfx: o.pfx,
              passphrase: o.passphrase,
              rejectUnauthorized: cluster?.skipTLSVerify ? false : (o.rejectUnauthorized ?? true),
              servername: cluster?.tlsServerName ?? o.servername ?? undefined,
            })
          : new http.Agent({ keepAlive: true });
        return { agent, secure, baseHeaders: headersOf(o), headersAt: Date.now() };
      })().catch((e: unknown) => {
        this.connection = undefined;
        throw new KubeError({
          status: 0,
          reason: 'ConfigError',
          message: `kubeconfig: ${(e as Error).message}`,
        });
      });
    }
    const c = await this.connection;
    if (Date.now() - c.headersAt > HEADER_REFRESH_MS) {
      c.headersAt = Date.now();
      const o: https.RequestOptions = {};
      try {
        await this.kc.applyToHTTPSOptions(o);
        c.baseHeaders = headersOf(o);
      } catch (error) {
        this.opts.logger.warn('refreshing credentials failed, keeping the old ones', { error });
      }
    }
    return c;
  }

  /** One request with a JSON (or empty) answer; non-2xx answers reject with a KubeError. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs?: number,
  ): Promise<unknown> {
    // The total budget also covers credential loading, so measure it from here.
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const c = await this.connect();
    const url = new URL(this.server + path);
    const operation = `${method} ${url.pathname}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const requestTimeoutMs = this.opts.requestTimeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      let budget: ReturnType<typeof setTimeout> | undefined;
      const mod = c.secure ? https : http;
      const req = mod.request(
        url,
        {
          method,
          agent: c.agent,
          headers: {
            ...c.baseHeaders,
            Accept: 'application/json',
            'User-Agent': this.opts.userAgent,
            ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {}),
          },
          timeout: requestTimeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (e) => reject(networkError(operation, e)));
          res.on('end', () => {
            clearTimeout(budget);
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(text === '' ? undefined : parseJson(text));
            else reject(kubeErrorFromStatus(status, parseJson(text), operation));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)));
      req.on('error', (e) => {
        clearTimeout(budget);
        reject(networkError(operation, e));
      });
      req.on('close', () => clearTimeout(budget));
      // The socket timeout above only fires on inactivity; a caller with a deadline (the lease
      // elector) needs the whole exchange bounded, however slowly bytes trickle in.
      if (deadline !== undefined)
        budget = setTimeout(
          () => {
            req.destroy();
            reject(
              new KubeError({
                status: 0,
                reason: 'Timeout',
                message: `${operation}: no answer within ${timeoutMs} ms`,
                operation,
              }),
            );
          },
          Math.max(0, deadline - Date.now()),
        );
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * Credentials and agent for a streamed GET of `path`. No socket timeout: the caller bounds it.
   */
  async prepareStream(path: string): Promise<PreparedStream> {
    const c = await this.connect();
    const url = new URL(this.server + path);
    const mod = c.secure ? https : http;
    const headers = { ...c.baseHeaders, Accept: 'application/json', 'User-Agent': this.opts.userAgent };
    return {
      url,
      open: (onResponse) => mod.request(url, { method: 'GET', agent: c.agent, headers }, onResponse),
    };
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    void this.connection?.then((c) => c.agent.destroy()).catch(() => undefined);
  }
}

/** JSON if it parses, else the text itself (it goes into error messages). */
export function parseJson(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function headersOf(o: https.RequestOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) out[k] = String(v);
  if (o.auth && !out['Authorization'])
    out['Authorization'] = `Basic ${Buffer.from(o.auth).toString('base64')}`;
  return out;
}

export function networkError(operation: string, e: Error): KubeError {
  const code = (e as { code?: string }).code;
  return new KubeError({
    status: 0,
    reason: 'NetworkError',
    message: `${operation}: ${code ? `${code} ` : ''}${e.message}`,
    operation,
  });
}

/** A query string from the parameters that are set (empty ones are left out). */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
