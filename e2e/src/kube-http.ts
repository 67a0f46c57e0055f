// A small keep-alive HTTPS client on a kubeconfig written by this package, for the tests and
// benchmarks that send thousands of requests (kubectl costs a process and a handshake each) and
// that watch with a timestamp on every event.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

interface KubeconfigJson {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export interface WatchEvent {
  readonly type: string;
  readonly object: {
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
  };
  /** performance.now() when the line arrived. */
  readonly at: number;
}

export interface KubeHttp {
  /** One request; body as JSON, or a string or Buffer sent as is (e.g. bytes that are not UTF-8). */
  send(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
    timeoutMs?: number,
  ): Promise<HttpResult>;
  /** A watch stream (path without `watch=1`); `stop` ends it. Rejects `ready` if it cannot start. */
  watch(path: string, onEvent: (e: WatchEvent) => void): { ready: Promise<void>; stop(): void };
  close(): void;
}

export function kubeHttp(kubeconfigPath: string, maxSockets = 32): KubeHttp {
  const kc = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as KubeconfigJson;
  const cluster = kc.clusters[0]?.cluster;
  const user = kc.users[0]?.user;
  if (!cluster || !user) throw new Error(`${kubeconfigPath}: no cluster or user`);
  const base = new URL(cluster.server);
  const fromB64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);
  const agent = new Agent({
    keepAlive: true,
    maxSockets,
    ca: fromB64(cluster['certificate-authority-data']),
    cert: fromB64(user['client-certificate-data']),
    key: fromB64(user['client-key-data']),
  });
  const headers = (extra: Record<string, string | number>) => ({
    accept: 'application/json',
    ...(user.token ? { authorization: `Bearer ${user.token}` } : {}),
    ...extra,
  });
  const options = (method: string, path: string, extra: Record<string, string | number> = {}) => ({
    host: base.hostname,
    port: base.port,
    path,
    method,
    agent,
    headers: headers(extra),
  });

  return {
    send(method, path, body, contentType = 'application/json', timeoutMs = 30_000) {
      // isView, not Buffer.isBuffer: the bytes may come from another realm (jest's VM).
      const payload =
        body === undefined
          ? undefined
          : typeof body === 'string'
            ? body
            : ArrayBuffer.isView(body)
              ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
              : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(
          options(
            method,
            path,
            payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {},
          ),
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
            );
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    watch(path, onEvent) {
      const sep = path.includes('?') ? '&' : '?';
      // Its own socket: a watch would hold one of the pool's for good.
      const req = request({
        ...options('GET', `${path}${sep}watch=1&allowWatchBookmarks=false`),
        agent: new Agent({ keepAlive: false, ...agent.options }),
      });
      const ready = new Promise<void>((resolve, reject) => {
        req.on('response', (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
            return;
          }
          resolve();
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const at = performance.now();
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (line.trim()) onEvent({ ...(JSON.parse(line) as Omit<WatchEvent, 'at'>), at });
            }
          });
        });
        req.on('error', reject);
      });
      req.end();
      return { ready, stop: () => req.destroy() };
    },
    close: () => agent.destroy(),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
