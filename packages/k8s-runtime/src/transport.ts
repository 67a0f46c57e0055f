// How bytes reach the API server: credentials from our kubeconfig loader (asked before every
// request; it re-reads rotating tokens and re-runs exec plugins itself), one keep-alive agent, and
// one JSON request with an optional total deadline. Knows nothing about kinds or paths.
import http from 'node:http';
import https from 'node:https';
import type { Auth, Credentials } from './credentials.js';
import { KubeError, kubeErrorFromStatus } from './kube-error.js';
import type { Logger } from './logger.js';

interface Connection {
  agent: http.Agent;
  secure: boolean;
  headers: Readonly<Record<string, string>>;
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
  private readonly secure: boolean;
  /** The agent and the client certificate it was made with (a new certificate needs a new agent). */
  private agent: { agent: http.Agent; cert?: Buffer; key?: Buffer } | undefined;

  constructor(
    private readonly credentials: Credentials,
    private readonly opts: TransportOptions,
  ) {
    this.server = credentials.config.server;
    this.secure = this.server.startsWith('https:');
  }

  private async connect(): Promise<Connection> {
    let auth: Auth;
    try {
      auth = await this.credentials.auth();
    } catch (e) {
      throw new KubeError({ status: 0, reason: 'ConfigError', message: (e as Error).message });
    }
    const current = this.agent;
    if (current && sameBytes(current.cert, auth.cert) && sameBytes(current.key, auth.key))
      return { agent: current.agent, secure: this.secure, headers: auth.headers };
    let agent: http.Agent;
    try {
      agent = this.secure
        ? new https.Agent({ keepAlive: true, ...this.credentials.tls(), cert: auth.cert, key: auth.key })
        : new http.Agent({ keepAlive: true });
    } catch (e) {
      throw new KubeError({ status: 0, reason: 'ConfigError', message: (e as Error).message });
    }
    if (current) {
      this.opts.logger.info('client certificate changed, reconnecting', { server: this.server });
      current.agent.destroy();
    }
    this.agent = { agent, ...(auth.cert ? { cert: auth.cert } : {}), ...(auth.key ? { key: auth.key } : {}) };
    return { agent, secure: this.secure, headers: auth.headers };
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
            ...c.headers,
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
    const headers = { ...c.headers, Accept: 'application/json', 'User-Agent': this.opts.userAgent };
    return {
      url,
      open: (onResponse) => mod.request(url, { method: 'GET', agent: c.agent, headers }, onResponse),
    };
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent?.agent.destroy();
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

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
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
